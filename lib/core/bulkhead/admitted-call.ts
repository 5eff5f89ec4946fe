import type { Unsubscribable } from 'rxjs';
import { ResilienceError } from '../errors/resilience.error.js';
import type { AttemptAbortListener, Invocation } from '../pipeline/invocation.js';
import type { Sink, SinkStep } from '../pipeline/sink.js';
import type { BulkheadState } from './bulkhead.state.js';
import type { Compartment } from './compartment.js';

/** Milliseconds now, read through the global `performance` so that fake timers drive it in tests. */
const now = () => performance.now();

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
 */
export class AdmittedCall implements AttemptAbortListener {
  private readonly start = now();
  private reported = false;
  private released = false;
  private readonly previousListener: AttemptAbortListener | undefined;

  constructor(
    private readonly bulkhead: BulkheadState,
    private readonly compartment: Compartment,
    protected readonly invocation: Invocation,
    private readonly inflight: number,
  ) {
    compartment.active++;
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
    const end = now();
    this.bulkhead.sample(end - this.start, this.inflight, dropped, end);
  }

  /** The work ended (answered, failed or unsubscribed): the slot is free again. */
  protected release(): void {
    if (this.released) return;
    this.released = true;
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

  /** The caller went away: the slot is free, nothing is sampled (a timeout that aborted first reported a drop). */
  abandoned(): void {
    this.release();
    this.reported = true;
  }
}

/**
 * An admitted Observable call on the fused path (see `SinkPolicy`): the sink of the rest of the pipeline and what
 * the caller unsubscribes, one object per call instead of an Observable, a Subscriber and closures.
 */
export class AdmittedSinkCall extends AdmittedCall implements Sink, Unsubscribable {
  private ended = false;
  private inner: Unsubscribable | undefined = undefined;

  constructor(
    bulkhead: BulkheadState,
    compartment: Compartment,
    invocation: Invocation,
    inflight: number,
    private readonly downstream: Sink,
  ) {
    super(bulkhead, compartment, invocation, inflight);
  }

  /** Runs the rest of the pipeline into this call. */
  run(step: SinkStep): Unsubscribable {
    const inner = step(this.invocation, this);
    if (this.ended) inner?.unsubscribe();
    else this.inner = inner;
    return this;
  }

  next(value: unknown): void {
    this.downstream.next(value);
  }

  // The rest is torn down and the slot given back before the caller hears, as in the fixed bulkhead.
  error(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.tearDown();
    this.failed(error);
    this.downstream.error(error);
  }

  complete(): void {
    if (this.ended) return;
    this.ended = true;
    this.tearDown();
    this.succeeded();
    this.downstream.complete();
  }

  unsubscribe(): void {
    if (this.ended) return;
    this.ended = true;
    this.tearDown();
    this.abandoned();
  }

  private tearDown(): void {
    const { inner } = this;
    this.inner = undefined;
    inner?.unsubscribe();
  }
}
