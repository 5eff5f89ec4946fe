import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Latency percentiles of a sliding window, in milliseconds; `null` when the window holds no duration. */
export interface LatencyPercentiles {
  /** Durations recorded in the window. */
  readonly count: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  /** Milliseconds the window currently spans (between half the window and the whole of it). */
  readonly spanMs: number;
}

/** Microseconds per millisecond: the histograms hold integers, so durations are kept to the microsecond. */
const MICROS = 1000;
/** The longest duration kept (2^31 - 1 ms, the longest timeout), in microseconds; longer ones are clamped. */
const HIGHEST_MICROS = 2_147_483_647 * MICROS;

/**
 * Durations of the last `windowMs` milliseconds, as Node's HDR histograms (`perf_hooks.createHistogram`, 3 significant
 * figures, about 11 KB each). Two halves: the current one records, the previous one still counts; every half window
 * the previous is cleared and becomes the current. Rotation happens when a duration is recorded or read, so an idle
 * histogram needs no timer and keeps no process alive.
 */
export class SlidingHistogram {
  private current: RecordableHistogram = newHistogram();
  private previous: RecordableHistogram = newHistogram();
  /** Both halves added together, for reading percentiles; reused. */
  private readonly merged: RecordableHistogram = newHistogram();
  private readonly halfMs: number;
  /** When the current half started, and the previous one. */
  private currentSince: number;
  private previousSince: number;

  constructor(
    windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.halfMs = windowMs / 2;
    this.currentSince = this.previousSince = now();
  }

  /** Records a duration in milliseconds (at least 1 µs, at most 2^31 - 1 ms). */
  record(durationMs: number): void {
    this.rotate(this.now());
    const micros = Math.round(durationMs * MICROS);
    this.current.record(micros < 1 ? 1 : micros > HIGHEST_MICROS ? HIGHEST_MICROS : micros);
  }

  /** Durations recorded in the window. */
  count(): number {
    this.rotate(this.now());
    return this.current.count + this.previous.count;
  }

  /** The duration below which `percentile` percent of the window's durations lie, in ms (0 when empty). */
  percentile(percentile: number): number {
    const merged = this.merge();
    return merged.count === 0 ? 0 : merged.percentile(percentile) / MICROS;
  }

  /**
   * p50, p95, p99 and count of the window. An empty window has no percentiles (`null`): 0 ms would read as "very
   * fast" on a dashboard, where an idle target has no data.
   */
  percentiles(): LatencyPercentiles {
    const merged = this.merge();
    const at = this.now();
    const empty = merged.count === 0;
    return {
      count: merged.count,
      p50: empty ? null : merged.percentile(50) / MICROS,
      p95: empty ? null : merged.percentile(95) / MICROS,
      p99: empty ? null : merged.percentile(99) / MICROS,
      spanMs: at - this.previousSince,
    };
  }

  private merge(): RecordableHistogram {
    this.rotate(this.now());
    this.merged.reset();
    this.merged.add(this.previous);
    this.merged.add(this.current);
    return this.merged;
  }

  private rotate(at: number): void {
    const elapsed = at - this.currentSince;
    if (elapsed < this.halfMs) return;
    if (elapsed >= 2 * this.halfMs) {
      // Idle for a whole window: nothing recorded is recent any more.
      this.current.reset();
      this.previous.reset();
      this.currentSince = this.previousSince = at;
      return;
    }
    const cleared = this.previous;
    cleared.reset();
    this.previous = this.current;
    this.current = cleared;
    this.previousSince = this.currentSince;
    this.currentSince = at;
  }
}

function newHistogram(): RecordableHistogram {
  return createHistogram({ lowest: 1, highest: HIGHEST_MICROS, figures: 3 });
}
