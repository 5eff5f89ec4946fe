import type { ConcurrencyLimit, LimitBounds } from './concurrency-limit.interface.js';

/** Netflix's `VegasLimit` defaults (its `maxConcurrency` is our `maxLimit`; it has no floor but 1). */
export const VEGAS_DEFAULTS = { initialLimit: 20, minLimit: 1, maxLimit: 1000 } as const;
/** Every `PROBE_MULTIPLIER x limit` samples the no-load latency is measured afresh. */
const PROBE_MULTIPLIER = 30;

/**
 * TCP Vegas applied to concurrency (Netflix `VegasLimit`): the queue is estimated as
 * `limit x (1 - noLoadRtt / rtt)`; below `3 log10(limit)` the limit grows, above `6 log10(limit)` it shrinks.
 * The no-load latency is the lowest seen, re-probed every 30 x limit samples.
 */
export class VegasLimit implements ConcurrencyLimit {
  limit: number;
  private noLoadRtt = 0;
  private samples = 0;

  constructor(private readonly bounds: LimitBounds) {
    this.limit = bounds.initialLimit;
  }

  onSample(rtt: number, inflight: number, dropped: boolean): void {
    if (++this.samples >= PROBE_MULTIPLIER * this.limit) {
      this.samples = 0;
      this.noLoadRtt = rtt;
      return;
    }
    if (this.noLoadRtt === 0 || rtt < this.noLoadRtt) {
      this.noLoadRtt = rtt;
      return;
    }
    const { limit } = this;
    const log = Math.max(1, Math.log10(limit));
    let next: number;
    if (dropped) {
      next = limit - log;
    } else if (inflight * 2 < limit) {
      return; // the application does not use the limit: no information
    } else {
      const queue = Math.ceil(limit * (1 - this.noLoadRtt / rtt));
      if (queue <= log) next = limit + 6 * log;
      else if (queue < 3 * log) next = limit + log;
      else if (queue > 6 * log) next = limit - log;
      else return;
    }
    this.limit = Math.min(this.bounds.maxLimit, Math.max(this.bounds.minLimit, next));
  }
}
