/** Counts of the outcomes a sliding window currently remembers. */
export interface WindowCounts {
  /** Calls recorded (successes and failures; ignored and cancelled calls are not recorded). */
  readonly calls: number;
  /** Of those, failures. */
  readonly failures: number;
  /** Of those, calls slower than `slowCallDuration` (whatever their outcome). */
  readonly slowCalls: number;
}

/** A sliding window of call outcomes. */
export interface OutcomeWindow {
  /** Records one call at `now` (epoch milliseconds). */
  record(failed: boolean, slow: boolean, now: number): void;
  /** What the window remembers at `now`. */
  counts(now: number): WindowCounts;
  /** Forgets everything. */
  clear(): void;
  /**
   * At `now`: `failure-rate` or `slow-call-rate` when the window holds at least `minimumCalls` calls and that rate,
   * in percent, is at or above its threshold; `undefined` otherwise. No allocation: it runs after every call.
   */
  judge(now: number, minimumCalls: number, failurePercent: number, slowPercent: number): WindowVerdict | undefined;
}

/** Why a window asks its breaker to open. */
export type WindowVerdict = 'failure-rate' | 'slow-call-rate';

function verdictOf(
  calls: number,
  failures: number,
  slowCalls: number,
  minimumCalls: number,
  failurePercent: number,
  slowPercent: number,
): WindowVerdict | undefined {
  if (calls === 0 || calls < minimumCalls) return undefined;
  if ((failures / calls) * 100 >= failurePercent) return 'failure-rate';
  if ((slowCalls / calls) * 100 >= slowPercent) return 'slow-call-rate';
  return undefined;
}

const FAILED = 1;
const SLOW = 2;

/** The last `size` calls, in a ring buffer of one byte per call with running totals: O(1) per call. */
export class CountWindow implements OutcomeWindow {
  private readonly outcomes: Uint8Array;
  private next = 0;
  private calls = 0;
  private failures = 0;
  private slowCalls = 0;

  constructor(size: number) {
    this.outcomes = new Uint8Array(size);
  }

  record(failed: boolean, slow: boolean): void {
    const size = this.outcomes.length;
    if (this.calls === size) {
      const evicted = this.outcomes[this.next];
      if (evicted & FAILED) this.failures--;
      if (evicted & SLOW) this.slowCalls--;
    } else {
      this.calls++;
    }
    this.outcomes[this.next] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    if (failed) this.failures++;
    if (slow) this.slowCalls++;
    this.next = (this.next + 1) % size;
  }

  counts(): WindowCounts {
    return { calls: this.calls, failures: this.failures, slowCalls: this.slowCalls };
  }

  clear(): void {
    this.next = this.calls = this.failures = this.slowCalls = 0;
  }

  judge(_now: number, minimumCalls: number, failurePercent: number, slowPercent: number): WindowVerdict | undefined {
    return verdictOf(this.calls, this.failures, this.slowCalls, minimumCalls, failurePercent, slowPercent);
  }
}

/**
 * The calls of the last `seconds` seconds, in one bucket per second. Buckets rotate by elapsed time, so after an
 * idle gap the old calls are gone even though no call arrived to push them out. O(1) amortised per call.
 */
export class TimeWindow implements OutcomeWindow {
  private readonly calls: Int32Array;
  private readonly failures: Int32Array;
  private readonly slowCalls: Int32Array;
  private currentSecond = 0;
  private totalCalls = 0;
  private totalFailures = 0;
  private totalSlowCalls = 0;

  constructor(private readonly seconds: number) {
    this.calls = new Int32Array(seconds);
    this.failures = new Int32Array(seconds);
    this.slowCalls = new Int32Array(seconds);
  }

  record(failed: boolean, slow: boolean, now: number): void {
    const index = this.rotate(now);
    this.calls[index]++;
    this.totalCalls++;
    if (failed) {
      this.failures[index]++;
      this.totalFailures++;
    }
    if (slow) {
      this.slowCalls[index]++;
      this.totalSlowCalls++;
    }
  }

  counts(now: number): WindowCounts {
    this.rotate(now);
    return { calls: this.totalCalls, failures: this.totalFailures, slowCalls: this.totalSlowCalls };
  }

  clear(): void {
    this.calls.fill(0);
    this.failures.fill(0);
    this.slowCalls.fill(0);
    this.totalCalls = this.totalFailures = this.totalSlowCalls = 0;
  }

  judge(now: number, minimumCalls: number, failurePercent: number, slowPercent: number): WindowVerdict | undefined {
    this.rotate(now);
    return verdictOf(
      this.totalCalls,
      this.totalFailures,
      this.totalSlowCalls,
      minimumCalls,
      failurePercent,
      slowPercent,
    );
  }

  /** Empties the buckets of the seconds that passed since the last call; returns the bucket of `now`. */
  private rotate(now: number): number {
    const second = Math.floor(now / 1000);
    const elapsed = second - this.currentSecond;
    if (elapsed >= this.seconds || elapsed < 0) {
      this.clear();
    } else {
      for (let step = 1; step <= elapsed; step++) this.emptyBucket((this.currentSecond + step) % this.seconds);
    }
    this.currentSecond = second;
    return second % this.seconds;
  }

  private emptyBucket(index: number): void {
    this.totalCalls -= this.calls[index];
    this.totalFailures -= this.failures[index];
    this.totalSlowCalls -= this.slowCalls[index];
    this.calls[index] = this.failures[index] = this.slowCalls[index] = 0;
  }
}
