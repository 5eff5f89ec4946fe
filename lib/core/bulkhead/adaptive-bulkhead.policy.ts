import { Observable } from 'rxjs';
import { ResilienceError } from '../errors/resilience.error.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';
import type { BulkheadState } from './bulkhead.state.js';

/** Milliseconds now, read through the global `performance` so that fake timers drive it in tests. */
const now = () => performance.now();

/** A timed-out call is the overload signal the algorithms back off on. */
const isDrop = (error: unknown) => error instanceof ResilienceError && error.code === 'TIMEOUT';

/**
 * `@Bulkhead({ adaptive })`: admits a call while the calls in flight stay under the adaptive limit, rejects it at once
 * otherwise (no queue: under overload waiting only adds latency), and feeds every completed call's latency, with the
 * calls in flight when it started, to the limit's algorithm.
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
      compartment.active++;
      const start = now();
      return next(invocation).then(
        (value) => {
          compartment.active--;
          bulkhead.sample(now() - start, inflight, false);
          return value;
        },
        (error: unknown) => {
          compartment.active--;
          bulkhead.sample(now() - start, inflight, isDrop(error));
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
        compartment.active++;
        const start = now();
        let ended = false;
        const end = (dropped: boolean, sampled: boolean) => {
          if (ended) return;
          ended = true;
          compartment.active--;
          // A caller that unsubscribed before the answer says nothing about the downstream's latency.
          if (sampled) bulkhead.sample(now() - start, inflight, dropped);
        };
        const subscription = next(invocation).subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => {
            end(isDrop(error), true);
            subscriber.error(error);
          },
          complete: () => {
            end(false, true);
            subscriber.complete();
          },
        });
        return () => {
          subscription.unsubscribe();
          end(false, false);
        };
      });
  }
}
