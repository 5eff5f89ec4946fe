import { firstValueFrom, NEVER, Observable, of } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  MemoryRateLimitStore,
  RateLimitExceededError,
  ResilienceEvents,
  TimeoutError,
  type CircuitBreakerOptions,
} from '../../lib/index.js';
import { DEFAULT_BULKHEAD_OPTIONS } from '../../lib/core/bulkhead/bulkhead.options.js';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from '../../lib/core/circuit-breaker/circuit-breaker.options.js';
import { DEFAULT_RATE_LIMIT_OPTIONS } from '../../lib/core/rate-limit/rate-limit.options.js';
import { CircuitBreakerState } from '../../lib/core/circuit-breaker/circuit-breaker.state.js';
import { BulkheadState } from '../../lib/core/bulkhead/bulkhead.state.js';
import { BulkheadPolicy } from '../../lib/core/bulkhead/bulkhead.policy.js';
import { CircuitBreakerPolicy } from '../../lib/core/circuit-breaker/circuit-breaker.policy.js';
import { RateLimitPolicy } from '../../lib/core/rate-limit/rate-limit.policy.js';
import { RateLimitState } from '../../lib/core/rate-limit/rate-limit.state.js';
import { TimeoutPolicy } from '../../lib/core/timeout/timeout.policy.js';
import { resilient } from './policy-harness.js';

const circuit = (options: Partial<CircuitBreakerOptions>) =>
  new CircuitBreakerState('gateway', { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, ...options }, new ResilienceEvents());
const pool = (maxConcurrent: number) =>
  new BulkheadState('pool', { ...DEFAULT_BULKHEAD_OPTIONS, maxConcurrent, maxQueue: 0 }, new ResilienceEvents());

/** A healthy downstream whose calls stay pending until released, as a Promise or an Observable. */
function gateway() {
  const pending: (() => void)[] = [];
  const promise = vi.fn(() => new Promise<string>((resolve) => pending.push(() => resolve('paid'))));
  const observable = vi.fn(
    () =>
      new Observable<string>((subscriber) => {
        pending.push(() => {
          subscriber.next('paid');
          subscriber.complete();
        });
      }),
  );
  return { promise, observable, releaseAll: () => pending.splice(0).forEach((release) => release()) };
}

describe('CircuitBreakerPolicy and the rejections of the policies inside it', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a burst rejected by a full bulkhead inside neither opens the breaker nor counts as calls (Promise)', async () => {
    const breaker = circuit({ consecutiveFailures: 3 });
    const downstream = gateway();
    const { call } = resilient(downstream.promise, () => [
      new CircuitBreakerPolicy(breaker),
      new BulkheadPolicy(pool(1)),
    ]);
    const running = call();
    const burst = await Promise.allSettled(Array.from({ length: 50 }, () => call()));
    expect(
      burst.every((result) => result.status === 'rejected' && result.reason instanceof BulkheadRejectedError),
    ).toBe(true);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 0, failures: 0 });
    downstream.releaseAll();
    await expect(running).resolves.toBe('paid');
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 1, failures: 0 });
    expect(downstream.promise).toHaveBeenCalledTimes(1);
  });

  it('a burst rejected by a full bulkhead inside neither opens the breaker nor counts (Observable)', async () => {
    const breaker = circuit({ consecutiveFailures: 3 });
    const downstream = gateway();
    const { call } = resilient(
      downstream.observable,
      () => [new CircuitBreakerPolicy(breaker), new BulkheadPolicy(pool(1))],
      'observable',
    );
    const running = firstValueFrom(call());
    const errors: unknown[] = [];
    for (let i = 0; i < 50; i++) call().subscribe({ error: (error) => errors.push(error) });
    expect(errors).toHaveLength(50);
    expect(errors.every((error) => error instanceof BulkheadRejectedError)).toBe(true);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 0, failures: 0 });
    downstream.releaseAll();
    await expect(running).resolves.toBe('paid');
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 1, failures: 0 });
  });

  it('does not record calls refused by a rate limit inside the breaker', async () => {
    const breaker = circuit({ consecutiveFailures: 1 });
    const limiter = new RateLimitState(
      'quota',
      { ...DEFAULT_RATE_LIMIT_OPTIONS, limit: 1, interval: 60_000 },
      new MemoryRateLimitStore(),
    );
    const downstream = vi.fn(async () => 'sent');
    const { call } = resilient(downstream, () => [
      new CircuitBreakerPolicy(breaker),
      new RateLimitPolicy(limiter, () => 'global'),
    ]);
    await expect(call()).resolves.toBe('sent');
    await expect(call()).rejects.toBeInstanceOf(RateLimitExceededError);
    await expect(call()).rejects.toBeInstanceOf(RateLimitExceededError);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 1, failures: 0 });
  });

  it('does not record the fail-fast of an open nested breaker', async () => {
    const outer = circuit({ consecutiveFailures: 1 });
    const inner = circuit({ consecutiveFailures: 1 });
    inner.forceOpen();
    const { call } = resilient(
      () => NEVER,
      () => [new CircuitBreakerPolicy(outer), new CircuitBreakerPolicy(inner)],
      'observable',
    );
    await expect(firstValueFrom(call())).rejects.toBeInstanceOf(BrokenCircuitError);
    await expect(firstValueFrom(call())).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(outer.snapshot()).toMatchObject({ state: 'closed', calls: 0 });
  });

  it('a half-open probe rejected by the inner bulkhead gives its probe slot back', async () => {
    const breaker = circuit({ consecutiveFailures: 1, openDuration: 1000, halfOpenMaxCalls: 1 });
    const shared = pool(1);
    const downstream = gateway();
    const guarded = resilient(
      (mode: string) => (mode === 'fail' ? Promise.reject(new Error('down')) : downstream.promise()),
      () => [new CircuitBreakerPolicy(breaker), new BulkheadPolicy(shared)],
    );
    // Another method of the same bulkhead, not behind the breaker, holds its only slot.
    const other = resilient(downstream.promise, () => [new BulkheadPolicy(shared)]);
    await expect(guarded.call('fail')).rejects.toThrow('down');
    expect(breaker.state).toBe('open');
    const holder = other.call();
    await vi.advanceTimersByTimeAsync(1000);
    await expect(guarded.call('ok')).rejects.toBeInstanceOf(BulkheadRejectedError); // the probe
    expect(breaker.state).toBe('half_open'); // not re-opened by our own rejection
    downstream.releaseAll();
    await holder;
    const probe = guarded.call('ok'); // admitted: the slot of the rejected probe was given back
    downstream.releaseAll();
    await expect(probe).resolves.toBe('paid');
    expect(breaker.state).toBe('closed');
  });

  it('still records a timeout of the attempt inside the breaker: the downstream was slow', async () => {
    const breaker = circuit({ consecutiveFailures: 2 });
    const downstream = gateway();
    const { call } = resilient(
      downstream.observable,
      (events) => [new CircuitBreakerPolicy(breaker), new TimeoutPolicy('t', 100, 'attempt', events)],
      'observable',
    );
    for (let i = 0; i < 2; i++) {
      const result = firstValueFrom(call());
      const assertion = expect(result).rejects.toBeInstanceOf(TimeoutError);
      await vi.advanceTimersByTimeAsync(100);
      await assertion;
    }
    expect(breaker.snapshot()).toMatchObject({ state: 'open', calls: 2, failures: 2 });
  });
});

describe('CircuitBreakerPolicy on Observables with a coordinated half-open probe', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A coordinator whose lease answers are given by the test. */
  function coordinated() {
    const breaker = circuit({ consecutiveFailures: 1, openDuration: 1000 });
    const answers: ((granted: boolean) => void)[] = [];
    const released = vi.fn();
    breaker.coordinate({
      join: () => undefined,
      publishOpen: () => undefined,
      acquireProbeLease: () => new Promise<boolean>((resolve) => answers.push(resolve)),
      releaseProbeLease: released,
    });
    breaker.forceOpen();
    breaker.reset();
    breaker.onFailure(breaker.acquire(), new Error('down'), 0); // open
    vi.advanceTimersByTime(1000); // the next call is a probe
    return { breaker, answers, released };
  }

  it('runs the probe once the lease is granted, and gives the lease back when it ends', async () => {
    const { breaker, answers, released } = coordinated();
    const method = vi.fn(() => of('paid'));
    const { call } = resilient(method, () => [new CircuitBreakerPolicy(breaker)], 'observable');
    const result = firstValueFrom(call());
    expect(method).not.toHaveBeenCalled();
    answers[0](true);
    await expect(result).resolves.toBe('paid');
    expect(released).toHaveBeenCalledTimes(1);
    expect(breaker.state).toBe('closed');
  });

  it('fails fast without the lease, and frees the probe slot for the next caller', async () => {
    const { breaker, answers } = coordinated();
    const method = vi.fn(() => of('paid'));
    const { call } = resilient(method, () => [new CircuitBreakerPolicy(breaker)], 'observable');
    const denied = firstValueFrom(call());
    answers[0](false);
    await expect(denied).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(method).not.toHaveBeenCalled();
    const next = firstValueFrom(call()); // admitted as the probe again, asking for the lease
    expect(answers).toHaveLength(2);
    answers[1](true);
    await expect(next).resolves.toBe('paid');
  });

  it('a caller that left while the lease was asked for runs nothing and gives the granted lease back', async () => {
    const { breaker, answers, released } = coordinated();
    const method = vi.fn(() => of('paid'));
    const { call } = resilient(method, () => [new CircuitBreakerPolicy(breaker)], 'observable');
    call().subscribe().unsubscribe();
    answers[0](true);
    await vi.advanceTimersByTimeAsync(0);
    expect(method).not.toHaveBeenCalled();
    expect(released).toHaveBeenCalledTimes(1);
    expect(breaker.state).toBe('half_open'); // the probe slot is free again
    const next = firstValueFrom(call());
    answers[1](true);
    await expect(next).resolves.toBe('paid');
  });

  it('an unsubscribed probe gives its lease back and counts as nothing', async () => {
    const { breaker, answers, released } = coordinated();
    const { call } = resilient(
      () => NEVER,
      () => [new CircuitBreakerPolicy(breaker)],
      'observable',
    );
    const subscription = call().subscribe();
    answers[0](true);
    await vi.advanceTimersByTimeAsync(0);
    subscription.unsubscribe();
    expect(released).toHaveBeenCalledTimes(1);
    expect(breaker.state).toBe('half_open');
    // Only the failure that opened it: the cancelled probe is neither a success nor a failure.
    expect(breaker.snapshot()).toMatchObject({ calls: 1, failures: 1 });
  });
});
