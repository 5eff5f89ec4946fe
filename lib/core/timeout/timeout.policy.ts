import { Observable, type Subscription } from 'rxjs';
import { TimeoutError } from '../errors/timeout.error.js';
import type { ResilienceEvents } from '../events/resilience-events.js';
import type { Invocation } from '../pipeline/invocation.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';

/**
 * Gives up a call that takes longer than `duration` milliseconds: the caller gets a {@link TimeoutError}, an
 * Observable source is unsubscribed and the attempt's AbortSignal (if the method asked for one) is aborted.
 * With `scope: 'total'` it guards the whole call across retries instead of one attempt.
 */
export class TimeoutPolicy implements ResiliencePolicy {
  constructor(
    readonly name: string,
    private readonly duration: number,
    private readonly scope: 'attempt' | 'total',
    private readonly events: ResilienceEvents,
  ) {}

  wrapPromise(next: PromiseStep): PromiseStep {
    return (invocation) =>
      new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => reject(this.expire(invocation)), this.duration);
        next(invocation).then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(error);
          },
        );
      });
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    return (invocation) =>
      new Observable<unknown>((subscriber) => {
        // The deadline is for the first value (or completion): a stream that has started answering keeps flowing.
        let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(() => {
          timer = undefined;
          subscription.unsubscribe();
          subscriber.error(this.expire(invocation));
        }, this.duration);
        const stop = () => {
          if (timer !== undefined) clearTimeout(timer);
          timer = undefined;
        };
        const subscription: Subscription = next(invocation).subscribe({
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
          subscription.unsubscribe();
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
