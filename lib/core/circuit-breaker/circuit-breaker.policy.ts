import { Observable, type Subscriber, type TeardownLogic } from 'rxjs';
import { brokenCircuit } from '../errors/broken-circuit.error.js';
import { ResilienceError } from '../errors/resilience.error.js';
import type { Invocation } from '../pipeline/invocation.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';
import { ORDINARY_CALL, type Circuit } from './circuit.js';

/** Rejections by our own policies inside the breaker: they say nothing about the downstream's health. */
const NOT_RECORDED = new Set<string>(['BULKHEAD_REJECTED', 'RATE_LIMIT_EXCEEDED', 'BROKEN_CIRCUIT']);

/** True when `error` is a bulkhead, rate-limit or nested-breaker rejection: the downstream was never called. */
function isOwnRejection(error: unknown): boolean {
  return error instanceof ResilienceError && NOT_RECORDED.has(error.code);
}

/**
 * Runs calls through a shared {@link Circuit}: rejects at once while it is open, and reports every outcome.
 * A call given up by its caller (unsubscribed, or ended by a total timeout) counts as neither success nor failure, and
 * so does a call rejected by a policy inside the breaker (bulkhead full, rate limited, a nested breaker open): the
 * downstream was never asked. A timeout inside the breaker does count: the downstream was slow.
 * With coordination on, a half-open probe first takes the cross-replica lease; a replica without it fails fast.
 */
export class CircuitBreakerPolicy implements ResiliencePolicy {
  readonly name: string;

  constructor(private readonly breaker: Circuit) {
    this.name = breaker.name;
  }

  wrapPromise(next: PromiseStep): PromiseStep {
    const breaker = this.breaker;
    /** Reports a failed call, or one that never reached the downstream (given up by its caller, or our rejection). */
    const onRejected = (invocation: Invocation, permit: number, error: unknown, elapsedMs: number): never => {
      if (invocation.cancelled !== undefined || isOwnRejection(error)) breaker.onCancel(permit);
      else breaker.onFailure(permit, error, elapsedMs);
      throw error;
    };
    // The common case (an ordinary call, not timed) shares one success handler across calls.
    const onOrdinarySuccess = (value: unknown) => {
      breaker.onSuccess(ORDINARY_CALL, 0);
      return value;
    };
    const run = (invocation: Invocation, permit: number) => {
      if (permit === ORDINARY_CALL && !breaker.tracksSlowCalls) {
        return next(invocation).then(onOrdinarySuccess, (error: unknown) => onRejected(invocation, permit, error, 0));
      }
      const started = breaker.tracksSlowCalls ? performance.now() : 0;
      const elapsed = () => (breaker.tracksSlowCalls ? performance.now() - started : 0);
      return next(invocation).then(
        (value) => {
          breaker.onSuccess(permit, elapsed());
          return value;
        },
        (error: unknown) => onRejected(invocation, permit, error, elapsed()),
      );
    };
    const probeWithLease = async (invocation: Invocation, permit: number) => {
      if (!(await breaker.acquireProbeLease())) {
        breaker.onCancel(permit);
        throw brokenCircuit(breaker.name, Date.now());
      }
      try {
        return await run(invocation, permit);
      } finally {
        breaker.releaseProbeLease();
      }
    };
    return (invocation) => {
      const permit = breaker.admit();
      // Not an async function, no throw: a plain rejected Promise is the cheapest way to fail fast.
      if (typeof permit !== 'number') return Promise.reject(permit);
      if (permit !== ORDINARY_CALL && breaker.coordinated) return probeWithLease(invocation, permit);
      return run(invocation, permit);
    };
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    const breaker = this.breaker;
    return (invocation) =>
      new Observable<unknown>((subscriber) => {
        const permit = breaker.admit();
        if (typeof permit !== 'number') {
          subscriber.error(permit);
          return;
        }
        if (permit === ORDINARY_CALL || !breaker.coordinated) return observe(breaker, next, invocation, permit, subscriber);
        let teardown: TeardownLogic;
        let unsubscribed = false;
        breaker.acquireProbeLease().then(
          (granted) => {
            if (unsubscribed) {
              breaker.onCancel(permit);
              if (granted) breaker.releaseProbeLease();
            } else if (!granted) {
              breaker.onCancel(permit);
              subscriber.error(brokenCircuit(breaker.name, Date.now()));
            } else {
              subscriber.add(() => breaker.releaseProbeLease());
              teardown = observe(breaker, next, invocation, permit, subscriber);
            }
          },
          // acquireProbeLease never rejects (coordinator errors resolve to a local decision); kept for safety.
          (error: unknown) => subscriber.error(error),
        );
        return () => {
          unsubscribed = true;
          if (typeof teardown === 'function') teardown();
        };
      });
  }
}

/** Subscribes to the next step with `permit`, reporting the first value, error or completion to the breaker. */
function observe(
  breaker: Circuit,
  next: ObservableStep,
  invocation: Invocation,
  permit: number,
  subscriber: Subscriber<unknown>,
): () => void {
  const started = breaker.tracksSlowCalls ? performance.now() : 0;
  const elapsed = () => (breaker.tracksSlowCalls ? performance.now() - started : 0);
  let settled = false;
  const subscription = next(invocation).subscribe({
    next: (value) => {
      // The first value proves the downstream answered; a long-lived stream is not held open as "in flight".
      if (!settled) {
        settled = true;
        breaker.onSuccess(permit, elapsed());
      }
      subscriber.next(value);
    },
    error: (error: unknown) => {
      if (!settled) {
        settled = true;
        if (isOwnRejection(error)) breaker.onCancel(permit);
        else breaker.onFailure(permit, error, elapsed());
      }
      subscriber.error(error);
    },
    complete: () => {
      if (!settled) {
        settled = true;
        breaker.onSuccess(permit, elapsed());
      }
      subscriber.complete();
    },
  });
  return () => {
    if (!settled) {
      settled = true;
      breaker.onCancel(permit);
    }
    subscription.unsubscribe();
  };
}
