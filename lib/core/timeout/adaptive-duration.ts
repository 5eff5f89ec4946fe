import { SlidingHistogram } from '../metrics/sliding-histogram.js';
import { DeadlineQueue } from './deadline-queue.js';
import type { ResolvedAdaptiveTimeoutOptions } from './timeout.options.js';

/** How often, at most, the timeout is recomputed: reading a percentile merges two histograms, not a per-call cost. */
const RECOMPUTE_EVERY_MS = 1000;

/**
 * The duration of an adaptive timeout: the chosen percentile of recent successful attempts plus the margin, within
 * `min` and `max`, recomputed at most once a second; until `minSamples` successes are in the window, `initial`
 * clamped into `[min, max]`: a `max` below the configured `duration` caps the first calls too, so no call ever waits
 * longer than `max` (and a lease sized from `max` covers every attempt).
 * Each duration gets its own {@link DeadlineQueue} (its deadlines stay in order, one timer each); a queue left
 * behind by a change drains with the calls still in it.
 */
export class AdaptiveDuration {
  private readonly latencies: SlidingHistogram;
  private queue: DeadlineQueue;
  private computedAt = -Infinity;
  /** The duration before `minSamples` successes: the configured one, within `[min, max]`. */
  private readonly initial: number;

  constructor(
    initial: number,
    private readonly options: ResolvedAdaptiveTimeoutOptions,
  ) {
    this.initial = Math.min(options.max, Math.max(options.min, initial));
    this.latencies = new SlidingHistogram(options.window);
    this.queue = new DeadlineQueue(this.initial);
  }

  /** The timeout in milliseconds a call starting now gets. */
  get current(): number {
    return this.queue.duration;
  }

  /** The deadlines of a call starting now (with the duration recomputed when it is due). */
  deadlines(): DeadlineQueue {
    const now = performance.now();
    if (now - this.computedAt >= RECOMPUTE_EVERY_MS) {
      this.computedAt = now;
      const duration = this.compute();
      if (duration !== this.queue.duration) this.queue = new DeadlineQueue(duration);
    }
    return this.queue;
  }

  /** Records the duration of an attempt that succeeded in time. */
  record(durationMs: number): void {
    this.latencies.record(durationMs);
  }

  private compute(): number {
    const { percentile, margin, min, max, minSamples } = this.options;
    if (this.latencies.count() < minSamples) return this.initial;
    const target = Math.ceil(this.latencies.percentile(percentile) + margin);
    return Math.min(max, Math.max(min, target));
  }
}
