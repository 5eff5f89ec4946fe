/** One window's worth of samples, as {@link SampleWindow} hands them to an algorithm. */
export interface WindowSample {
  /** The average round-trip time of the window's calls, ms. */
  readonly rtt: number;
  /** The most calls in flight any of them saw when it started. */
  readonly inflight: number;
  /** Whether any of them was dropped. */
  readonly dropped: boolean;
}

/** At least this many calls make a window (Netflix `WindowedLimit`: 10). */
const WINDOW_SIZE = 10;
/**
 * A window lasts at least twice its fastest call, within these bounds (ms). Netflix's `WindowedLimit` defaults both
 * to 1 s and allows 100 ms at the least; the lower bound here is that 100 ms, so that the limit settles within
 * seconds rather than a minute.
 */
const MIN_WINDOW_TIME = 100;
const MAX_WINDOW_TIME = 1_000;

/**
 * Netflix's `WindowedLimit` with its `AverageSampleWindow`: collects completed calls and hands the algorithm one
 * averaged sample per window instead of every call's own latency. A latency-gradient algorithm fed call by call
 * reacts to single calls' noise and overshoots the knee while it probes; fed windows, it follows the trend.
 */
export class SampleWindow {
  private sum = 0;
  private count = 0;
  private minRtt = Infinity;
  private maxInflight = 0;
  private dropped = false;
  /** When the current window may close (performance.now() ms); 0 before the first sample. */
  private closesAt = 0;

  /** Adds one call; returns the window's sample when this call closes a window of enough calls, else undefined. */
  add(rtt: number, inflight: number, dropped: boolean, now: number): WindowSample | undefined {
    this.sum += rtt;
    this.count++;
    if (rtt < this.minRtt) this.minRtt = rtt;
    if (inflight > this.maxInflight) this.maxInflight = inflight;
    if (dropped) this.dropped = true;
    if (now < this.closesAt) return undefined;
    // As Netflix's: a window that lasted its time with too few calls is dropped, not stretched.
    const sample =
      this.count >= WINDOW_SIZE
        ? { rtt: this.sum / this.count, inflight: this.maxInflight, dropped: this.dropped }
        : undefined;
    this.closesAt = now + Math.min(Math.max(this.minRtt * 2, MIN_WINDOW_TIME), MAX_WINDOW_TIME);
    this.sum = 0;
    this.count = 0;
    this.minRtt = Infinity;
    this.maxInflight = 0;
    this.dropped = false;
    return sample;
  }
}
