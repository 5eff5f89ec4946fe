import { isObservable, Observable, Subscriber, type TeardownLogic } from 'rxjs';
import type { PolicyTarget } from '../events/resilience-event.interface.js';
import { invokeAsActive, Invocation } from './invocation.js';
import { subscriberOf, type SinkStep } from './sink.js';
import { composeFusedSinks } from './fused-observable.js';
import { liftToObservable, liftToPromise } from './lift.js';
import { callerSignal, runAbortable, subscribeAbortable } from './caller-signal.js';
import type { PromiseStep, ResiliencePolicy } from './policy.interface.js';
import { fusableTail } from './fused-plan.js';
import { fusePromise } from './fused-promise.js';

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
    // The caller's Subscriber goes straight into the fused policies, and the method's Observable is subscribed
    // straight to the innermost one: no `defer` around either end.
    const callMethod: SinkStep = (invocation, sink) => {
      let result: Observable<unknown>;
      try {
        result = liftToObservable(invokeAsActive(invocation, method));
      } catch (error) {
        sink.error(error);
        return undefined;
      }
      return result.subscribe(subscriberOf(sink));
    };
    const step = composeFusedSinks(policies, callMethod);
    return function resilientObservableMethod(this: unknown, ...args: unknown[]): Observable<unknown> {
      // The caller's scope is the one it called the method in, not the one it happens to subscribe in.
      return new MethodCallObservable(step, target, this, args, callerSignal());
    };
  }
  const run = createPromiseCall(policies, method, target);
  return function resilientMethod(this: unknown, ...args: unknown[]): Promise<unknown> {
    return run(this, args, callerSignal());
  };
}

/**
 * A call of `method` through `policies` (outermost first) as a Promise: what a Promise method's wrapper and
 * `ResilienceService` pipelines run. `signal` is the caller's own cancellation, when it has one.
 * @internal
 */
export function createPromiseCall(
  policies: readonly ResiliencePolicy[],
  method: AnyMethod,
  target: PolicyTarget,
): (thisArg: unknown, args: readonly unknown[], signal: AbortSignal | undefined) => Promise<unknown> {
  const step = composePromise(policies, (invocation) => {
    let result: unknown;
    try {
      result = invokeAsActive(invocation, method);
    } catch (error) {
      return Promise.reject(error);
    }
    // An async method's Promise, the common case, first: no Observable check for it.
    if (result instanceof Promise) return result;
    if (isObservable(result)) return Promise.reject(undeclaredObservable(target));
    return liftToPromise(result);
  });
  return (thisArg, args, signal) => {
    // Callers of an async method expect a rejection, never a synchronous throw that escapes their `.catch`.
    try {
      const invocation = new Invocation(target, thisArg, args);
      return signal === undefined ? step(invocation) : runAbortable(step, invocation, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/**
 * What an Observable method returns: every subscription is a new call (a new {@link Invocation}) through the
 * policies, with the caller's Subscriber as their sink. A class rather than `new Observable(fn)`: no closure per call.
 */
class MethodCallObservable extends Observable<unknown> {
  constructor(
    readonly step: SinkStep,
    readonly target: PolicyTarget,
    readonly thisArg: unknown,
    readonly args: unknown[],
    /** The caller's `withSignal` scope when it called the method. */
    readonly signal: AbortSignal | undefined,
  ) {
    super(subscribeToMethodCall);
  }
}

/** RxJS calls the subscribe function with the Observable as `this`. */
function subscribeToMethodCall(this: Observable<unknown>, subscriber: Subscriber<unknown>): TeardownLogic {
  const { step, target, thisArg, args, signal } = this as MethodCallObservable;
  const invocation = new Invocation(target, thisArg, args);
  if (signal === undefined) return step(invocation, subscriber);
  return subscribeAbortable(step, invocation, subscriber, signal);
}

function undeclaredObservable(target: PolicyTarget): TypeError {
  return new TypeError(
    `${target.className}.${target.methodName} returned an Observable, but its return type is not declared as one. ` +
      `Declare it (": Observable<T>", with Observable imported as a value, not with "import type") so ` +
      `nest-resilience keeps the call lazy and returns an Observable.`,
  );
}

/**
 * Chains `policies` (outermost first) around `terminal` into one Promise step. Runs once per method at bootstrap,
 * so the per-call path is a fixed chain of steps with no lookups.
 */
export function composePromise(policies: readonly ResiliencePolicy[], terminal: PromiseStep): PromiseStep {
  // The innermost run of the common policy set becomes one fused step (one object and one `then` per call).
  const fused = fusableTail(policies);
  const inner = fused === 0 ? terminal : fusePromise(policies.slice(-fused), terminal, composePromise);
  return policies
    .slice(0, policies.length - fused)
    .reduceRight<PromiseStep>((next, policy) => policy.wrapPromise(next), inner);
}
