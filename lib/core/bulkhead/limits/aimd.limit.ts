import type { ConcurrencyLimit, LimitBounds } from './concurrency-limit.interface.js';
import { SampleWindow } from './sample-window.js';

/** Netflix's `AIMDLimit` defaults. */
export const AIMD_DEFAULTS = { initialLimit: 20, minLimit: 20, maxLimit: 200 } as const;
const BACKOFF_RATIO = 0.9;
/** A call slower than this counts as dropped (Netflix: 5 s). */
const TIMEOUT_MS = 5_000;

/**
 * Additive increase, multiplicative decrease (Netflix `AIMDLimit` behind their `WindowedLimit`, see
 * {@link SampleWindow}): +1 per window of calls while at least half the limit was in use, x0.9 per window with a
 * drop (a call that timed out, or took longer than 5 s on average). Fed call by call, the increase would be one per
 * answer, hundreds a second: the limit would shoot past the knee between two timeouts.
 */
export class AimdLimit implements ConcurrencyLimit {
  limit: number;
  private readonly window = new SampleWindow();

  constructor(private readonly bounds: LimitBounds) {
    this.limit = bounds.initialLimit;
  }

  onSample(rtt: number, inflight: number, dropped: boolean, now = performance.now()): void {
    const sample = this.window.add(rtt, inflight, dropped, now);
    if (sample === undefined) return;
    if (sample.dropped || sample.rtt > TIMEOUT_MS) {
      this.limit = Math.max(this.bounds.minLimit, Math.floor(this.limit * BACKOFF_RATIO));
    } else if (sample.inflight * 2 >= this.limit) {
      this.limit = Math.min(this.bounds.maxLimit, this.limit + 1);
    }
  }
}
