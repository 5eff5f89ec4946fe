import type { Unsubscribable } from 'rxjs';
import { ResilienceError } from '../errors/resilience.error.js';
import type { AttemptAbortListener, Invocation } from '../pipeline/invocation.js';
import type { Sink, SinkStep } from '../pipeline/sink.js';
import { monotonicClock, type MonotonicClock } from '../util/clock.js';
import type { BulkheadState } from './bulkhead.state.js';
import type { Compartment } from './compartment.js';

const isTimeout = (error: unknown) => error instanceof ResilienceError && error.code === 'TIMEOUT';

/**
 * One call admitted by an adaptive bulkhead: holds its slot until the work really ends, and reports it to the limit
 * once. Two clock reads per call, one at each end: the algorithms average every call's own round-trip time.
 *
 * A timed-out attempt is the overload signal the algorithms back off on, reported as Netflix's `onDropped` is: at
 * the moment the timeout (outside the bulkhead, in the canonical order) aborts the attempt, not when the work ends,
 * which for a method that ignores its signal may be much later, after the limit has grown on other calls' answers.
 * An attempt aborted for another reason (a hedge that lost, a total timeout's caller going away) says nothing about
 * the downstream: not sampled. Neither is an Observable that the caller unsubscribed (it took what it wanted).
 *
 * The Promise path's call; {@link AdmittedSinkCall} is the Observable path's, the same decisions in a class of its
 * own (a subclass would cost a constructor call per call that V8 does not inline).
 */
export class AdmittedCall implements AttemptAbortListener {
  /**
   * The clock, chosen once per call and kept for its end: node:perf_hooks' own, or the global `performance` while
   * fake timers are installed (see monotonicClock; the global is an accessor that costs as much as the clock).
   */
  private readonly clock: MonotonicClock;
  private readonly start: number;
  private reported = false;
  private readonly previousListener: AttemptAbortListener | undefined;

  constructor(
    private readonly bulkhead: BulkheadState,
    private readonly compartment: Compartment,
    private readonly invocation: Invocation,
    private readonly inflight: number,
  ) {
    compartment.active++;
    this.clock = monotonicClock();
    this.start = this.clock.now();
    // The call itself listens, not a closure per call (see Invocation.abortListener).
    this.previousListener = invocation.abortListener;
    invocation.abortListener = this;
  }

  /** The attempt was abandoned: a timeout is a drop, anything else says nothing about the downstream. */
  attemptAborted(reason: unknown): void {
    this.previousListener?.attemptAborted(reason);
    if (isTimeout(reason)) this.report(true);
    else this.reported = true;
  }

  /** Reports the call's latency, or a drop, unless it was reported (or given up) already. */
  private report(dropped: boolean): void {
    if (this.reported) return;
    this.reported = true;
    // One clock read for the latency and the sample window.
    const end = this.clock.now();
    this.bulkhead.sample(end - this.start, this.inflight, dropped, end);
  }

  /** The work ended (the method's Promise settled, which happens once): the slot is free again. */
  private release(): void {
    this.compartment.active--;
    // Only if still ours: a retry's next attempt may have entered (and hooked in) while this one's work went on.
    if (this.invocation.abortListener === this) this.invocation.abortListener = this.previousListener;
  }

  /** The work answered. */
  succeeded(): void {
    this.release();
    this.report(false);
  }

  /** The work failed with an error of its own (a timeout inside the bulkhead is a drop). */
  failed(error: unknown): void {
    this.release();
    this.report(isTimeout(error));
  }
}

/**
 * An admitted Observable call on the fused path (see `SinkPolicy`): the sink of the rest of the pipeline and what
 * the caller unsubscribes, one object per call instead of an Observable, a Subscriber and closures. Decides as
 * {@link AdmittedCall} does.
 */
export class AdmittedSinkCall implements AttemptAbortListener, Sink, Unsubscribable {
  private readonly clock: MonotonicClock;
  private readonly start: number;
  private reported = false;
  private ended = false;
  private inner: Unsubscribable | undefined = undefined;
  private readonly previousListener: AttemptAbortListener | undefined;

  constructor(
    private readonly bulkhead: BulkheadState,
    private readonly compartment: Compartment,
    private readonly invocation: Invocation,
    private readonly inflight: number,
    private readonly downstream: Sink,
  ) {
    compartment.active++;
    this.clock = monotonicClock();
    this.start = this.clock.now();
    this.previousListener = invocation.abortListener;
    invocation.abortListener = this;
  }

  /** Runs the rest of the pipeline into this call. */
  run(step: SinkStep): Unsubscribable {
    const inner = step(this.invocation, this);
    if (this.ended) inner?.unsubscribe();
    else this.inner = inner;
    return this;
  }

  attemptAborted(reason: unknown): void {
    this.previousListener?.attemptAborted(reason);
    if (isTimeout(reason)) this.report(true);
    else this.reported = true;
  }

  next(value: unknown): void {
    this.downstream.next(value);
  }

  // The rest is torn down and the slot given back before the caller hears, as in the fixed bulkhead.
  error(error: unknown): void {
    if (this.ended) return;
    this.end();
    this.report(isTimeout(error));
    this.downstream.error(error);
  }

  complete(): void {
    if (this.ended) return;
    this.end();
    this.report(false);
    this.downstream.complete();
  }

  /** The caller went away: the slot is free, nothing is sampled (a timeout that aborted first reported a drop). */
  unsubscribe(): void {
    if (this.ended) return;
    this.end();
    this.reported = true;
  }

  private report(dropped: boolean): void {
    if (this.reported) return;
    this.reported = true;
    const end = this.clock.now();
    this.bulkhead.sample(end - this.start, this.inflight, dropped, end);
  }

  /** Tears the rest down and frees the slot; the call ends once. */
  private end(): void {
    this.ended = true;
    const { inner } = this;
    this.inner = undefined;
    inner?.unsubscribe();
    this.compartment.active--;
    if (this.invocation.abortListener === this) this.invocation.abortListener = this.previousListener;
  }
}
