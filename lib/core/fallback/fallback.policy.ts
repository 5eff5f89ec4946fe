import { Observable, type Subscription } from 'rxjs';
import type { ResilienceEvents } from '../events/resilience-events.js';
import type { Invocation } from '../pipeline/invocation.js';
import { liftToObservable, liftToPromise } from '../pipeline/lift.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';

/** Produces the replacement result for a failed invocation (value, Promise or Observable). */
export type FallbackHandler = (error: unknown, invocation: Invocation) => unknown;

/**
 * Replaces a failure with another result. Errors that `when` rejects propagate unchanged; an error thrown by the
 * fallback itself propagates too (it is never swallowed).
 */
export class FallbackPolicy implements ResiliencePolicy {
  constructor(
    readonly name: string,
    private readonly handler: FallbackHandler,
    private readonly when: ((error: unknown) => boolean) | undefined,
    private readonly events: ResilienceEvents,
  ) {}

  wrapPromise(next: PromiseStep): PromiseStep {
    // A rejection handler only (no async function): the success path costs one `then`.
    return (invocation) => next(invocation).then(undefined, (error: unknown) => this.recover(error, invocation));
  }

  private recover(error: unknown, invocation: Invocation): Promise<unknown> {
    if (!this.handles(error, invocation)) throw error;
    return liftToPromise(this.handler(error, invocation));
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    // Hand-written rather than RxJS's `catchError`: the same switch to the fallback, for less per call.
    return (invocation) =>
      new Observable<unknown>((subscriber) => {
        let replacement: Subscription | undefined;
        const original = next(invocation).subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => {
            let fallback: Observable<unknown>;
            try {
              if (!this.handles(error, invocation)) {
                subscriber.error(error);
                return;
              }
              fallback = liftToObservable(this.handler(error, invocation));
            } catch (failure) {
              subscriber.error(failure); // the fallback's own failure is the caller's error
              return;
            }
            replacement = fallback.subscribe(subscriber);
          },
          complete: () => subscriber.complete(),
        });
        return () => {
          original.unsubscribe();
          replacement?.unsubscribe();
        };
      });
  }

  /** True when the fallback applies to `error`; reports the fallback when it does. */
  private handles(error: unknown, invocation: Invocation): boolean {
    if (this.when !== undefined && !this.when(error)) return false;
    if (this.events.observed) {
      this.events.emit({ type: 'fallback', policy: this.name, target: invocation.target, error });
    }
    return true;
  }
}
