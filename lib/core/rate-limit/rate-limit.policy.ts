import { defer, from, switchMap, throwError, timer, type Observable } from 'rxjs';
import { RateLimitExceededError } from '../errors/rate-limit-exceeded.error.js';
import type { Invocation } from '../pipeline/invocation.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';
import type { RateLimitDecision } from './rate-limit-store.interface.js';
import type { RateLimiter } from './rate-limiter.js';

/**
 * An outbound quota on a provider method: a call spends tokens before it runs. Without tokens it waits for them up
 * to `maxWait`, or fails with `RateLimitExceededError` carrying the time until they are there.
 */
export class RateLimitPolicy implements ResiliencePolicy {
  readonly name: string;

  constructor(
    private readonly limiter: RateLimiter,
    /** The bucket key of a call. */
    private readonly keyOf: (invocation: Invocation) => string,
  ) {
    this.name = limiter.name;
  }

  wrapPromise(next: PromiseStep): PromiseStep {
    const proceed = async (invocation: Invocation, decision: RateLimitDecision) => {
      if (!decision.allowed) throw new RateLimitExceededError(this.name, decision.retryAfterMs);
      if (decision.waitMs > 0) await invocation.wait(decision.waitMs);
      return next(invocation);
    };
    return (invocation) => {
      let key: string;
      try {
        key = this.keyOf(invocation);
      } catch (error) {
        // A throwing key function fails the call like any error, through the outer policies.
        return Promise.reject(error);
      }
      const decision = this.limiter.consume(key, this.limiter.options.maxWait);
      if (decision instanceof Promise) return decision.then((settled) => proceed(invocation, settled));
      // The common case, allowed at once by a synchronous store, stays a plain call.
      if (decision.allowed && decision.waitMs === 0) return next(invocation);
      return proceed(invocation, decision);
    };
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    const proceed = (invocation: Invocation, decision: RateLimitDecision): Observable<unknown> => {
      if (!decision.allowed) return throwError(() => new RateLimitExceededError(this.name, decision.retryAfterMs));
      return decision.waitMs > 0 ? timer(decision.waitMs).pipe(switchMap(() => next(invocation))) : next(invocation);
    };
    return (invocation) =>
      defer(() => {
        const decision = this.limiter.consume(this.keyOf(invocation), this.limiter.options.maxWait);
        return decision instanceof Promise
          ? from(decision).pipe(switchMap((settled) => proceed(invocation, settled)))
          : proceed(invocation, decision);
      });
  }
}
