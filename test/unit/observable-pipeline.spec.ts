import { defer, firstValueFrom, NEVER, Observable, of, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MemoryRateLimitStore,
  RateLimitExceededError,
  ResilienceEvents,
  type BulkheadOptions,
  type RateLimitDecision,
  type RateLimitOptions,
  type RateLimitStore,
} from '../../lib/index.js';
import { DEFAULT_BULKHEAD_OPTIONS } from '../../lib/core/bulkhead/bulkhead.options.js';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from '../../lib/core/circuit-breaker/circuit-breaker.options.js';
import { DEFAULT_RATE_LIMIT_OPTIONS } from '../../lib/core/rate-limit/rate-limit.options.js';
import { DEFAULT_RETRY_OPTIONS } from '../../lib/core/retry/retry.options.js';
import { CircuitBreakerState } from '../../lib/core/circuit-breaker/circuit-breaker.state.js';
import { BulkheadState } from '../../lib/core/bulkhead/bulkhead.state.js';
import { BulkheadPolicy } from '../../lib/core/bulkhead/bulkhead.policy.js';
import { CircuitBreakerPolicy } from '../../lib/core/circuit-breaker/circuit-breaker.policy.js';
import { FallbackPolicy } from '../../lib/core/fallback/fallback.policy.js';
import { composeObservable } from '../../lib/core/pipeline/sink.js';
import { Invocation } from '../../lib/core/pipeline/invocation.js';
import type { ResiliencePolicy } from '../../lib/core/pipeline/policy.interface.js';
import { RateLimitPolicy } from '../../lib/core/rate-limit/rate-limit.policy.js';
import { RateLimitState } from '../../lib/core/rate-limit/rate-limit.state.js';
import { RetryPolicy } from '../../lib/core/retry/retry.policy.js';
import { TimeoutPolicy } from '../../lib/core/timeout/timeout.policy.js';
import { resilient } from './policy-harness.js';

const limit = (options: Partial<RateLimitOptions>, store: RateLimitStore = new MemoryRateLimitStore()) =>
  new RateLimitPolicy(
    new RateLimitState('quota', { ...DEFAULT_RATE_LIMIT_OPTIONS, ...options }, store),
    () => 'global',
  );
const pool = (options: Partial<BulkheadOptions>) =>
  new BulkheadState('pool', { ...DEFAULT_BULKHEAD_OPTIONS, ...options }, new ResilienceEvents());
const retry = (events: ResilienceEvents, maxAttempts = 3) =>
  new RetryPolicy('r', { ...DEFAULT_RETRY_OPTIONS, maxAttempts, initialDelay: 10, jitter: 'none' }, events);

/** A method returning an Observable that emits `value` after `ms` (fake time), counting subscriptions. */
function delayed(ms: number, value = 'ok') {
  const teardown = vi.fn();
  const method = vi.fn(
    () =>
      new Observable<string>((subscriber) => {
        const timer = setTimeout(() => {
          subscriber.next(value);
          subscriber.complete();
        }, ms);
        return () => {
          clearTimeout(timer);
          teardown();
        };
      }),
  );
  return { method, teardown };
}

describe('Observable pipeline', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  describe('RateLimitPolicy', () => {
    it('fails at once with RateLimitExceededError, without calling the method', async () => {
      const method = vi.fn(() => of('sent'));
      const { call } = resilient(method, () => [limit({ limit: 1, interval: 1000 })], 'observable');
      await expect(firstValueFrom(call())).resolves.toBe('sent');
      await expect(firstValueFrom(call())).rejects.toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', retryAfterMs: 1000 });
      expect(method).toHaveBeenCalledTimes(1);
    });

    it('waits up to maxWait for a token, then runs the call', async () => {
      const method = vi.fn(() => of(Date.now()));
      const { call } = resilient(method, () => [limit({ limit: 1, interval: 100, maxWait: 250 })], 'observable');
      await expect(firstValueFrom(call())).resolves.toBe(0);
      const second = firstValueFrom(call());
      expect(method).toHaveBeenCalledTimes(1); // waiting for its token
      await vi.advanceTimersByTimeAsync(100);
      await expect(second).resolves.toBe(100);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('clears the wait for a token when the caller unsubscribes, and never calls the method', async () => {
      const method = vi.fn(() => of('sent'));
      const { call } = resilient(method, () => [limit({ limit: 1, interval: 100, maxWait: 1000 })], 'observable');
      await firstValueFrom(call());
      const waiting = call().subscribe();
      expect(vi.getTimerCount()).toBe(1);
      waiting.unsubscribe();
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(1000);
      expect(method).toHaveBeenCalledTimes(1);
    });

    it('with a store answering asynchronously, runs on its answer, not at all if the caller left', async () => {
      const answers: ((decision: RateLimitDecision) => void)[] = [];
      const store: RateLimitStore = {
        consume: () => new Promise<RateLimitDecision>((resolve) => answers.push(resolve)),
      };
      const allowed = { allowed: true, remaining: 1, waitMs: 0, retryAfterMs: 0, resetMs: 0 };
      const method = vi.fn(() => of('sent'));
      const { call } = resilient(method, () => [limit({ limit: 10, interval: 1000 }, store)], 'observable');
      const result = firstValueFrom(call());
      const abandoned = call().subscribe();
      abandoned.unsubscribe();
      answers.forEach((answer) => answer(allowed));
      await expect(result).resolves.toBe('sent');
      expect(method).toHaveBeenCalledTimes(1);

      const refused = firstValueFrom(call());
      answers[2]({ ...allowed, allowed: false, retryAfterMs: 500 });
      await expect(refused).rejects.toBeInstanceOf(RateLimitExceededError);
    });
  });

  describe('TimeoutPolicy', () => {
    it('lets a stream that has started answering keep flowing past the deadline', async () => {
      const method = () =>
        new Observable<number>((subscriber) => {
          let n = 0;
          const timer = setInterval(() => {
            subscriber.next(++n);
            if (n === 3) {
              clearInterval(timer);
              subscriber.complete();
            }
          }, 80);
          return () => clearInterval(timer);
        });
      const { call, events } = resilient(method, (bus) => [new TimeoutPolicy('t', 100, 'attempt', bus)], 'observable');
      const result = firstValueFrom(call().pipe(toArray()));
      await vi.advanceTimersByTimeAsync(240);
      await expect(result).resolves.toEqual([1, 2, 3]);
      expect(events).toEqual([]);
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('BulkheadPolicy', () => {
    it('rejects a queued call after maxWait, leaves the running call alone and no timer behind', async () => {
      const bulkhead = pool({ maxConcurrent: 1, maxQueue: 1, maxWait: 50 });
      const { method } = delayed(200);
      const { call } = resilient(method, () => [new BulkheadPolicy(bulkhead)], 'observable');
      const running = firstValueFrom(call());
      const queued = firstValueFrom(call());
      const assertion = expect(queued).rejects.toMatchObject({ code: 'BULKHEAD_REJECTED', reason: 'wait' });
      await vi.advanceTimersByTimeAsync(50);
      await assertion;
      expect(bulkhead.snapshot()).toMatchObject({ active: 1, queued: 0 });
      await vi.advanceTimersByTimeAsync(150);
      await expect(running).resolves.toBe('ok');
      expect(method).toHaveBeenCalledTimes(1);
      expect(bulkhead.snapshot()).toMatchObject({ active: 0, queued: 0 });
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('FallbackPolicy', () => {
    it('unsubscribes the replacement when the caller unsubscribes, outermost or inside another policy', async () => {
      const breaker = new CircuitBreakerState('c', DEFAULT_CIRCUIT_BREAKER_OPTIONS, new ResilienceEvents());
      for (const outside of [[], [new CircuitBreakerPolicy(breaker)]]) {
        const { method: replacement, teardown } = delayed(1000, 'cached');
        const { call } = resilient(
          () => defer(() => Promise.reject(new Error('down'))),
          (bus) => [...outside, new FallbackPolicy('f', () => replacement(), undefined, bus)],
          'observable',
        );
        const subscription = call().subscribe();
        await vi.advanceTimersByTimeAsync(0); // the original call's rejection arrives
        expect(replacement).toHaveBeenCalledTimes(1);
        subscription.unsubscribe();
        expect(teardown).toHaveBeenCalledTimes(1);
        expect(vi.getTimerCount()).toBe(0);
      }
    });

    it("surfaces the fallback's own failure", async () => {
      const { call } = resilient(
        () => defer(() => Promise.reject(new Error('down'))),
        (bus) => [
          new FallbackPolicy(
            'f',
            () => {
              throw new Error('no cache either');
            },
            undefined,
            bus,
          ),
        ],
        'observable',
      );
      await expect(firstValueFrom(call())).rejects.toThrow('no cache either');
    });
  });

  describe('the policies together', () => {
    it('retries through breaker, timeout and bulkhead: each attempt runs anew, and nothing is held after', async () => {
      const breaker = new CircuitBreakerState(
        'c',
        { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, minimumCalls: 10 },
        new ResilienceEvents(),
      );
      const bulkhead = pool({ maxConcurrent: 1 });
      let attempt = 0;
      const method = vi.fn(() =>
        ++attempt < 3 ? new Observable<string>(() => undefined) : of(`answered on attempt ${attempt}`),
      );
      const { call, events } = resilient(
        method,
        (bus) => [
          retry(bus),
          new CircuitBreakerPolicy(breaker),
          new TimeoutPolicy('t', 100, 'attempt', bus),
          new BulkheadPolicy(bulkhead),
        ],
        'observable',
      );
      const result = firstValueFrom(call());
      await vi.advanceTimersByTimeAsync(100 + 10 + 100 + 20);
      await expect(result).resolves.toBe('answered on attempt 3');
      expect(method).toHaveBeenCalledTimes(3);
      expect(events.map((event) => event.type)).toEqual(['timeout', 'retry', 'timeout', 'retry']);
      expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 3, failures: 2 });
      expect(bulkhead.snapshot()).toMatchObject({ active: 0, queued: 0 });
      // The timeout's shared timer runs out at the last attempt's old deadline without doing anything.
      await vi.advanceTimersByTimeAsync(100);
      expect(events).toHaveLength(4);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('counts a value followed by an error as an answered call, and passes both on', async () => {
      const breaker = new CircuitBreakerState(
        'c',
        { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, consecutiveFailures: 1 },
        new ResilienceEvents(),
      );
      const bulkhead = pool({ maxConcurrent: 1 });
      const method = () =>
        new Observable<string>((subscriber) => {
          subscriber.next('first');
          subscriber.error(new Error('then broke'));
        });
      const { call } = resilient(
        method,
        () => [new CircuitBreakerPolicy(breaker), new BulkheadPolicy(bulkhead)],
        'observable',
      );
      const values: string[] = [];
      const errors: unknown[] = [];
      call().subscribe({ next: (value) => values.push(value), error: (error) => errors.push(error) });
      expect(values).toEqual(['first']);
      expect(errors).toEqual([new Error('then broke')]);
      expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 1, failures: 0 });
      expect(bulkhead.snapshot().active).toBe(0);
    });

    it("re-runs a handler's cold Observable (one per request) on every retry, cancels it at the deadline", async () => {
      const events = new ResilienceEvents();
      const reported: string[] = [];
      events.subscribe((event) => reported.push(event.type));
      const bulkhead = pool({ maxConcurrent: 1 });
      const step = composeObservable(
        [retry(events), new TimeoutPolicy('t', 100, 'attempt', events), new BulkheadPolicy(bulkhead)],
        () => handle$,
      );
      let runs = 0;
      const cancelled = vi.fn();
      // What Nest's next.handle() gives an interceptor: a cold Observable that runs the handler when subscribed.
      const handle$ = defer(() =>
        ++runs < 3 ? new Observable<string>(() => cancelled) : of(`answered on run ${runs}`),
      );
      const result = firstValueFrom(step(new Invocation({ className: 'Cats', methodName: 'find' }, undefined, [])));
      await vi.advanceTimersByTimeAsync(100 + 10 + 100 + 20);
      await expect(result).resolves.toBe('answered on run 3');
      expect(runs).toBe(3);
      expect(cancelled).toHaveBeenCalledTimes(2); // each timed-out run was unsubscribed
      expect(reported).toEqual(['timeout', 'retry', 'timeout', 'retry']);
      expect(bulkhead.snapshot().active).toBe(0);
    });

    it('runs a foreign policy (wrapObservable only) between ours: re-subscribed by retry, ended with it', async () => {
      const subscriptions = vi.fn();
      const unsubscriptions = vi.fn();
      const counting: ResiliencePolicy = {
        name: 'counting',
        wrapPromise: (next) => next,
        wrapObservable: (next) => (invocation) =>
          new Observable((subscriber) => {
            subscriptions();
            const inner = next(invocation).subscribe(subscriber);
            return () => {
              unsubscriptions();
              inner.unsubscribe();
            };
          }),
      };
      const bulkhead = pool({ maxConcurrent: 1 });
      let attempt = 0;
      const { call } = resilient(
        () => (++attempt < 2 ? defer(() => Promise.reject(new Error('flaky'))) : NEVER),
        (bus) => [retry(bus), counting, new BulkheadPolicy(bulkhead)],
        'observable',
      );
      const subscription = call().subscribe();
      await vi.advanceTimersByTimeAsync(10);
      expect(subscriptions).toHaveBeenCalledTimes(2);
      expect(bulkhead.snapshot().active).toBe(1);
      subscription.unsubscribe();
      expect(unsubscriptions).toHaveBeenCalledTimes(2);
      expect(bulkhead.snapshot().active).toBe(0);
    });
  });
});

describe('user functions that throw on the Observable path', () => {
  it('a throwing retryIf fails the call with its error, as a Promise call would reject', async () => {
    const broken = new Error('retryIf is broken');
    const policy = new RetryPolicy(
      'r',
      {
        ...DEFAULT_RETRY_OPTIONS,
        retryIf: () => {
          throw broken;
        },
      },
      new ResilienceEvents(),
    );
    const failing = () => defer(() => Promise.reject(new Error('down')));
    const observable = resilient(failing, () => [policy], 'observable');
    const promise = resilient(
      () => Promise.reject(new Error('down')),
      () => [policy],
    );
    await expect(firstValueFrom(observable.call())).rejects.toBe(broken);
    await expect(promise.call()).rejects.toBe(broken);
  });

  it('a throwing recordIf fails the call with its error, as a Promise call would reject', async () => {
    const broken = new Error('recordIf is broken');
    const breaker = new CircuitBreakerState(
      'c',
      {
        ...DEFAULT_CIRCUIT_BREAKER_OPTIONS,
        recordIf: () => {
          throw broken;
        },
      },
      new ResilienceEvents(),
    );
    const observable = resilient(
      () => defer(() => Promise.reject(new Error('down'))),
      () => [new CircuitBreakerPolicy(breaker)],
      'observable',
    );
    const promise = resilient(
      () => Promise.reject(new Error('down')),
      () => [new CircuitBreakerPolicy(breaker)],
    );
    await expect(firstValueFrom(observable.call())).rejects.toBe(broken);
    await expect(promise.call()).rejects.toBe(broken);
  });
});
