import { Observable } from 'rxjs';
import { ResilienceError } from '../errors/resilience.error.js';
import type { AttemptAbortListener, Invocation } from '../pipeline/invocation.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';
import type { BulkheadState } from './bulkhead.state.js';
import type { Compartment } from './compartment.js';

/** Milliseconds now, read through the global `performance` so that fake timers drive it in tests. */
const now = () => performance.now();

const isTimeout = (error: unknown) => error instanceof ResilienceError && error.code === 'TIMEOUT';

/**
 * One admitted call: holds its slot until the work really ends, and reports it to the limit once.
 *
 * A timed-out attempt is the overload signal the algorithms back off on, reported as Netflix's `onDropped` is: at
 * the moment the timeout (outside the bulkhead, in the canonical order) aborts the attempt, not when the work ends,
 * which for a method that ignores its signal may be much later, after the limit has grown on other calls' answers.
 * An attempt aborted for another reason (a hedge that lost, a total timeout's caller going away) says nothing about
 * the downstream: not sampled. Neither is an Observable that the caller unsubscribed (it took what it wanted).
 */
class AdmittedCall implements AttemptAbortListener {
  private readonly start = now();
  private reported = false;
  private released = false;
  private readonly previousListener: AttemptAbortListener | undefined;

  constructor(
    private readonly bulkhead: BulkheadState,
    private readonly compartment: Compartment,
    private readonly invocation: Invocation,
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
    this.report(isTimeout(reason) ? 'drop' : 'none');
  }

  /** Reports the call, once: its latency (`'sample'`), a drop, or nothing. */
  report(kind: 'sample' | 'drop' | 'none'): void {
    if (this.reported) return;
    this.reported = true;
    if (kind === 'none') return;
    // One clock read for the latency and the sample window.
    const end = now();
    this.bulkhead.sample(end - this.start, this.inflight, kind === 'drop', end);
  }

  /** The work ended (answered, failed or unsubscribed): the slot is free again. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.compartment.active--;
    // Only if still ours: a retry's next attempt may have entered (and hooked in) while this one's work went on.
    if (this.invocation.abortListener === this) this.invocation.abortListener = this.previousListener;
  }

  /** The work ended with an answer or an error of its own. */
  ended(error?: unknown): void {
    this.release();
    this.report(error !== undefined && isTimeout(error) ? 'drop' : 'sample');
  }
}

/**
 * `@Bulkhead({ adaptive })`: admits a call while the calls in flight stay under the adaptive limit, rejects it at once
 * otherwise (no queue: under overload waiting only adds latency), and feeds every completed call's latency, with the
 * calls in flight when it started, to the limit's algorithm; timed-out calls as drops.
 */
export class AdaptiveBulkheadPolicy implements ResiliencePolicy {
  readonly name: string;

  constructor(private readonly bulkhead: BulkheadState) {
    this.name = bulkhead.name;
  }

  wrapPromise(next: PromiseStep): PromiseStep {
    const bulkhead = this.bulkhead;
    const limit = bulkhead.adaptive!;
    const compartment = bulkhead.compartment('');
    return (invocation) => {
      const inflight = compartment.active + 1;
      if (inflight > Math.floor(limit.limit)) return Promise.reject(bulkhead.reject('limit', invocation));
      const call = new AdmittedCall(bulkhead, compartment, invocation, inflight);
      return next(invocation).then(
        (value) => {
          call.ended();
          return value;
        },
        (error: unknown) => {
          call.ended(error ?? new Error('undefined rejection'));
          throw error;
        },
      );
    };
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    const bulkhead = this.bulkhead;
    const limit = bulkhead.adaptive!;
    const compartment = bulkhead.compartment('');
    return (invocation) =>
      new Observable((subscriber) => {
        const inflight = compartment.active + 1;
        if (inflight > Math.floor(limit.limit)) {
          subscriber.error(bulkhead.reject('limit', invocation));
          return undefined;
        }
        const call = new AdmittedCall(bulkhead, compartment, invocation, inflight);
        const subscription = next(invocation).subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => {
            call.ended(error ?? new Error('undefined error'));
            subscriber.error(error);
          },
          complete: () => {
            call.ended();
            subscriber.complete();
          },
        });
        return () => {
          subscription.unsubscribe();
          // A timeout aborted the attempt before unsubscribing (reported as a drop already); otherwise the caller
          // went away: the slot is free, nothing is sampled.
          call.release();
          call.report('none');
        };
      });
  }
}
