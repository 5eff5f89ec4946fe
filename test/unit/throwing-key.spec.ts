import { firstValueFrom, Observable, of } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryRateLimitStore, ResilienceEvents } from '../../lib/index.js';
import { DEFAULT_BULKHEAD_OPTIONS } from '../../lib/core/bulkhead/bulkhead.options.js';
import { DEFAULT_RATE_LIMIT_OPTIONS } from '../../lib/core/rate-limit/rate-limit.options.js';
import { BulkheadState } from '../../lib/core/bulkhead/bulkhead.state.js';
import { BulkheadPolicy } from '../../lib/core/bulkhead/bulkhead.policy.js';
import { FallbackPolicy } from '../../lib/core/fallback/fallback.policy.js';
import { Invocation } from '../../lib/core/pipeline/invocation.js';
import type { ResiliencePolicy } from '../../lib/core/pipeline/policy.interface.js';
import { RateLimitPolicy } from '../../lib/core/rate-limit/rate-limit.policy.js';
import { RateLimitState } from '../../lib/core/rate-limit/rate-limit.state.js';
import { TimeoutPolicy } from '../../lib/core/timeout/timeout.policy.js';
import { resilient } from './policy-harness.js';

const keyError = new Error('no tenant on the request');
const throwingKey = (): string => {
  throw keyError;
};
const partitionedPool = () =>
  new BulkheadPolicy(
    new BulkheadState('pool', { ...DEFAULT_BULKHEAD_OPTIONS, key: throwingKey }, new ResilienceEvents()),
  );
const keyedLimit = () =>
  new RateLimitPolicy(
    new RateLimitState(
      'quota',
      { ...DEFAULT_RATE_LIMIT_OPTIONS, limit: 10, interval: 1000 },
      new MemoryRateLimitStore(),
    ),
    throwingKey,
  );
const fallback = (events: ResilienceEvents) => new FallbackPolicy('f', () => 'default', undefined, events);
const timeout = (events: ResilienceEvents) => new TimeoutPolicy('t', 100, 'attempt', events);

describe('a key function that throws', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('rejects the call of a bulkhead inside a timeout, and leaves no deadline to report a false timeout', async () => {
    const method = vi.fn(async () => 'ok');
    const { call, events } = resilient(method, (bus) => [timeout(bus), partitionedPool()]);
    let result: Promise<string> | undefined;
    expect(() => (result = call())).not.toThrow();
    await expect(result).rejects.toBe(keyError);
    await vi.advanceTimersByTimeAsync(500);
    expect(events).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    expect(method).not.toHaveBeenCalled();
  });

  it('rejects the call of a rate limit instead of throwing, and a fallback outside replaces the error', async () => {
    const plain = resilient(
      async () => 'ok',
      (bus) => [keyedLimit(), timeout(bus)],
    );
    let result: Promise<string> | undefined;
    expect(() => (result = plain.call())).not.toThrow();
    await expect(result).rejects.toBe(keyError);

    const withFallback = resilient(
      async () => 'ok',
      (bus) => [fallback(bus), keyedLimit(), timeout(bus), partitionedPool()],
    );
    await expect(withFallback.call()).resolves.toBe('default');
    expect(withFallback.events).toEqual([expect.objectContaining({ type: 'fallback', error: keyError })]);
    await vi.advanceTimersByTimeAsync(500);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a fallback outside replaces the key error of a bulkhead inside a timeout', async () => {
    const { call, events } = resilient(
      async () => 'ok',
      (bus) => [fallback(bus), timeout(bus), partitionedPool()],
    );
    await expect(call()).resolves.toBe('default');
    await vi.advanceTimersByTimeAsync(500);
    expect(events.map((event) => event.type)).toEqual(['fallback']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('errors an Observable call (bulkhead, rate limit), leaving no timer; a fallback outside replaces it', async () => {
    for (const keyed of [partitionedPool, keyedLimit]) {
      const method = vi.fn(() => of('ok'));
      const plain = resilient(method, (bus) => [timeout(bus), keyed()], 'observable');
      await expect(firstValueFrom(plain.call())).rejects.toBe(keyError);
      const rescued = resilient(method, (bus) => [fallback(bus), timeout(bus), keyed()], 'observable');
      await expect(firstValueFrom(rescued.call())).resolves.toBe('default');
      await vi.advanceTimersByTimeAsync(500);
      expect(plain.events).toEqual([]);
      expect(rescued.events.map((event) => event.type)).toEqual(['fallback']);
      expect(vi.getTimerCount()).toBe(0);
      expect(method).not.toHaveBeenCalled();
    }
  });
});

describe('TimeoutPolicy around a step that throws synchronously', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const invocation = () => new Invocation({ className: 'Test', methodName: 'method' }, undefined, []);
  const throwing = (): never => {
    throw keyError;
  };

  it('rejects (Promise) and clears its deadline', async () => {
    const events = new ResilienceEvents();
    const timeouts = vi.fn();
    events.subscribe(timeouts);
    const step = new TimeoutPolicy('t', 100, 'attempt', events).wrapPromise(throwing);
    await expect(step(invocation())).rejects.toBe(keyError);
    await vi.advanceTimersByTimeAsync(500);
    expect(timeouts).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('errors (Observable), clears its deadline, and a later deadline of the policy still fires', async () => {
    const events = new ResilienceEvents();
    const timeouts = vi.fn();
    events.subscribe(timeouts);
    const policy = new TimeoutPolicy('t', 100, 'attempt', events);
    const errors: unknown[] = [];
    policy
      .wrapObservable(throwing)(invocation())
      .subscribe({ error: (error) => errors.push(error) });
    expect(errors).toEqual([keyError]);
    const hanging = policy.wrapObservable(() => new Observable<never>(() => undefined));
    hanging(invocation()).subscribe({ error: (error) => errors.push(error) });
    await vi.advanceTimersByTimeAsync(100);
    expect(timeouts).toHaveBeenCalledTimes(1); // the hanging call's, not a false one for the throwing call
    expect(errors).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('a resilient Promise method', () => {
  it('rejects, never throws synchronously, when a policy step throws', async () => {
    const broken: ResiliencePolicy = {
      name: 'broken',
      wrapPromise: () => () => {
        throw keyError;
      },
      wrapObservable: (next) => next,
    };
    const { call } = resilient(
      async () => 'ok',
      () => [broken],
    );
    let result: Promise<string> | undefined;
    expect(() => (result = call())).not.toThrow();
    await expect(result).rejects.toBe(keyError);
  });
});
