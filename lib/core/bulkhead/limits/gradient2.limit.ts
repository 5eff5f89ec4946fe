import type { ConcurrencyLimit, LimitBounds } from './concurrency-limit.interface.js';
import { SampleWindow } from './sample-window.js';

/** Netflix's `Gradient2Limit` defaults (its `maxConcurrency` is our `maxLimit`). */
export const GRADIENT2_DEFAULTS = { initialLimit: 20, minLimit: 20, maxLimit: 200 } as const;
const SMOOTHING = 0.2;
const RTT_TOLERANCE = 1.5;
/** Windows in the long-term latency average. */
const LONG_WINDOW = 600;
/** Calls the limit may exceed what the latency gradient allows, so that it can probe upwards. */
const QUEUE_SIZE = 4;
/** The long-term average is a plain average of the first samples. */
const WARMUP = 10;

/**
 * Netflix `Gradient2Limit` behind their `WindowedLimit`: compares each window's average latency (see
 * {@link SampleWindow}) with a long-term exponential average of them (600 windows); the limit is multiplied by
 * `clamp(1.5 x long / short, 0.5, 1)` plus a queue allowance of 4, smoothed by 0.2. When the long-term average is far
 * above the current latency (the load went away), it decays so the limit can grow again.
 */
export class Gradient2Limit implements ConcurrencyLimit {
  limit: number;
  private longRtt = 0;
  private count = 0;
  private readonly window = new SampleWindow();

  constructor(private readonly bounds: LimitBounds) {
    this.limit = bounds.initialLimit;
  }

  onSample(rtt: number, inflight: number, dropped: boolean, now = performance.now()): void {
    const sample = this.window.add(rtt, inflight, dropped, now);
    if (sample !== undefined) this.update(sample.rtt, sample.inflight);
  }

  private update(rtt: number, inflight: number): void {
    const shortRtt = Math.max(rtt, 0.001);
    this.count++;
    if (this.count <= WARMUP) this.longRtt += (shortRtt - this.longRtt) / this.count;
    else this.longRtt += (shortRtt - this.longRtt) * (2 / (LONG_WINDOW + 1));
    if (this.longRtt / shortRtt > 2) this.longRtt *= 0.95;
    if (inflight < this.limit / 2) return; // the application does not use the limit: no information
    const gradient = Math.max(0.5, Math.min(1, (RTT_TOLERANCE * this.longRtt) / shortRtt));
    const target = this.limit * gradient + QUEUE_SIZE;
    const next = this.limit * (1 - SMOOTHING) + target * SMOOTHING;
    this.limit = Math.min(this.bounds.maxLimit, Math.max(this.bounds.minLimit, next));
  }
}
