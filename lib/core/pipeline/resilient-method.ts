import { defer, isObservable, type Observable } from 'rxjs';
import type { PolicyTarget } from '../events/resilience-event.interface.js';
import { composeObservable, composePromise } from './compose.js';
import { invokeAsActive, Invocation } from './invocation.js';
import { liftToObservable, liftToPromise } from './lift.js';
import type { ResiliencePolicy } from './policy.interface.js';

/** What a wrapped method returns: `promise` for async and plain methods, `observable` for Observable methods. */
export type ResultShape = 'promise' | 'observable';

type AnyMethod = (...args: never[]) => unknown;

/**
 * Returns a function that runs `method` through `policies` (outermost first), for use in place of the method.
 *
 * - `promise`: the wrapper returns a Promise. A synchronous method's value (or throw) becomes a resolved (or
 *   rejected) Promise, since policies such as retry and timeout need to wait.
 * - `observable`: the wrapper returns a cold Observable; nothing runs until it is subscribed, and every subscription
 *   is a new call through the policies.
 */
export function createResilientMethod(
  method: AnyMethod,
  target: PolicyTarget,
  policies: readonly ResiliencePolicy[],
  shape: ResultShape,
): (this: unknown, ...args: unknown[]) => unknown {
  if (shape === 'observable') {
    const step = composeObservable(policies, (invocation) =>
      defer(() => liftToObservable(invokeAsActive(invocation, method))),
    );
    return function resilientObservableMethod(this: unknown, ...args: unknown[]): Observable<unknown> {
      return defer(() => step(new Invocation(target, this, args)));
    };
  }
  const step = composePromise(policies, (invocation) => {
    let result: unknown;
    try {
      result = invokeAsActive(invocation, method);
    } catch (error) {
      return Promise.reject(error);
    }
    if (isObservable(result)) return Promise.reject(undeclaredObservable(target));
    return liftToPromise(result);
  });
  return function resilientMethod(this: unknown, ...args: unknown[]): Promise<unknown> {
    // Callers of an async method expect a rejection, never a synchronous throw that escapes their `.catch`.
    try {
      return step(new Invocation(target, this, args));
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

function undeclaredObservable(target: PolicyTarget): TypeError {
  return new TypeError(
    `${target.className}.${target.methodName} returned an Observable, but its return type is not declared as one. ` +
      `Declare it (": Observable<T>", with Observable imported as a value, not with "import type") so ` +
      `nest-resilience keeps the call lazy and returns an Observable.`,
  );
}
