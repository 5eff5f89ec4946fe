import type { ConcurrencyLimit, LimitBounds } from './concurrency-limit.interface.js';

/** Netflix's `AIMDLimit` defaults. */
export const AIMD_DEFAULTS = { initialLimit: 20, minLimit: 20, maxLimit: 200 } as const;
const BACKOFF_RATIO = 0.9;
/** A call slower than this counts as dropped (Netflix: 5 s). */
const TIMEOUT_MS = 5_000;

/**
 * Additive increase, multiplicative decrease (Netflix `AIMDLimit`): +1 after a call while at least half the limit is
 * in use, x0.9 after a drop (a timeout, or a call slower than 5 s).
 */
export class AimdLimit implements ConcurrencyLimit {
  limit: number;

  constructor(private readonly bounds: LimitBounds) {
    this.limit = bounds.initialLimit;
  }

  onSample(rtt: number, inflight: number, dropped: boolean): void {
    if (dropped || rtt > TIMEOUT_MS) {
      this.limit = Math.max(this.bounds.minLimit, Math.floor(this.limit * BACKOFF_RATIO));
    } else if (inflight * 2 >= this.limit) {
      this.limit = Math.min(this.bounds.maxLimit, this.limit + 1);
    }
  }
}
