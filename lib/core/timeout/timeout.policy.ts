import { Observable, type Subscription } from 'rxjs';
import { TimeoutError } from '../errors/timeout.error.js';
import type { ResilienceEvents } from '../events/resilience-events.js';
import { DeadlineQueue } from './deadline-queue.js';
import type { Invocation } from '../pipeline/invocation.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';

/**
 * Gives up a call that takes longer than `duration` milliseconds: the caller gets a {@link TimeoutError}, an
 * Observable source is unsubscribed and the attempt's AbortSignal (if the method asked for one) is aborted.
 * With `scope: 'total'` it guards the whole call across retries instead of one attempt.
 */
export class TimeoutPolicy implements ResiliencePolicy {
  private readonly deadlines: DeadlineQueue;

  constructor(
    readonly name: string,
    private readonly duration: number,
    private readonly scope: 'attempt' | 'total',
    private readonly events: ResilienceEvents,
  ) {
    this.deadlines = new DeadlineQueue(duration);
  }

  wrapPromise(next: PromiseStep): PromiseStep {
    const deadlines = this.deadlines;
    return (invocation) =>
      new Promise<unknown>((resolve, reject) => {
        const deadline = deadlines.add(() => reject(this.expire(invocation)));
        let running: Promise<unknown>;
        try {
          running = next(invocation);
        } catch (error) {
          // A step that throws instead of rejecting must not leave its deadline to report a false timeout later.
          deadlines.clear(deadline);
          reject(error);
          return;
        }
        running.then(
          (value) => {
            deadlines.clear(deadline);
            resolve(value);
          },
          (error: unknown) => {
            deadlines.clear(deadline);
            reject(error);
          },
        );
      });
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    return (invocation) =>
      new Observable<unknown>((subscriber) => {
        // The deadline is for the first value (or completion): a stream that has started answering keeps flowing.
        let subscription: Subscription | undefined = undefined;
        const deadline = this.deadlines.add(() => {
          subscription?.unsubscribe();
          subscriber.error(this.expire(invocation));
        });
        const stop = () => this.deadlines.clear(deadline);
        let source: Observable<unknown>;
        try {
          source = next(invocation);
        } catch (error) {
          // A step that throws instead of erroring must not leave its deadline to report a false timeout later.
          stop();
          subscriber.error(error);
          return;
        }
        subscription = source.subscribe({
          next: (value) => {
            stop();
            subscriber.next(value);
          },
          error: (error: unknown) => {
            stop();
            subscriber.error(error);
          },
          complete: () => {
            stop();
            subscriber.complete();
          },
        });
        return () => {
          stop();
          subscription?.unsubscribe();
        };
      });
  }

  /** Builds the error, stops the work that is still running and reports the event. */
  private expire(invocation: Invocation): TimeoutError {
    const error = new TimeoutError(this.name, this.duration, this.scope);
    if (this.scope === 'total') invocation.cancel(error);
    else invocation.abortAttempt(error);
    if (this.events.observed) {
      this.events.emit({
        type: 'timeout',
        policy: this.name,
        target: invocation.target,
        attempt: invocation.attempt,
        duration: this.duration,
        scope: this.scope,
      });
    }
    return error;
  }
}
