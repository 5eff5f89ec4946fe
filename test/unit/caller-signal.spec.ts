import { getEventListeners } from 'node:events';
import { lastValueFrom, Observable } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallAbortedError, getTimeoutSignal, ResilienceEvents, withSignal } from '../../lib/index.js';
import { DEFAULT_BULKHEAD_OPTIONS } from '../../lib/core/bulkhead/bulkhead.options.js';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from '../../lib/core/circuit-breaker/circuit-breaker.options.js';
import { DEFAULT_HEDGE_OPTIONS } from '../../lib/core/hedge/hedge.options.js';
import { DEFAULT_RETRY_OPTIONS } from '../../lib/core/retry/retry.options.js';
import { BulkheadPolicy } from '../../lib/core/bulkhead/bulkhead.policy.js';
import { BulkheadState } from '../../lib/core/bulkhead/bulkhead.state.js';
import { CircuitBreakerPolicy } from '../../lib/core/circuit-breaker/circuit-breaker.policy.js';
import { CircuitBreakerState } from '../../lib/core/circuit-breaker/circuit-breaker.state.js';
import { HedgePolicy } from '../../lib/core/hedge/hedge.policy.js';
import { RetryPolicy } from '../../lib/core/retry/retry.policy.js';
import { TimeoutPolicy } from '../../lib/core/timeout/timeout.policy.js';
import { resilient } from './policy-harness.js';

/** Work that honours the attempt's signal: rejects with its reason when aborted. */
function work(ms: number, value = 'ok') {
  const signals: AbortSignal[] = [];
  const method = vi.fn(() => {
    const signal = getTimeoutSignal()!;
    signals.push(signal);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => resolve(value), ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      });
    });
  });
  return { method, signals };
}

const abortListeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

describe("a caller's own AbortSignal (withSignal)", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('gives up the running attempt at once: an AbortError-like rejection, the attempt signal aborted', async () => {
    const { method, signals } = work(1_000);
    const { call } = resilient(method, (bus) => [new TimeoutPolicy('t', 5_000, 'attempt', bus)]);
    const controller = new AbortController();
    const result = withSignal(controller.signal, () => call());
    await vi.advanceTimersByTimeAsync(100);
    controller.abort(new Error('user navigated away'));
    const error = (await result.catch((failure: unknown) => failure)) as CallAbortedError;
    expect(error).toBeInstanceOf(CallAbortedError);
    expect(error).toMatchObject({ code: 'ABORTED', name: 'AbortError', policy: 'Test.Mock' });
    expect((error.cause as Error).message).toBe('user navigated away');
    expect(signals[0].aborted).toBe(true);
    expect(signals[0].reason).toBe(error);
    expect(abortListeners(controller.signal)).toBe(0);
  });

  it('ends a retry backoff: no further attempt starts, no timer is left', async () => {
    const method = vi.fn(async () => {
      throw new Error('transient');
    });
    const { call } = resilient(method, (bus) => [
      new RetryPolicy('r', { ...DEFAULT_RETRY_OPTIONS, jitter: 'none', initialDelay: 1_000, maxAttempts: 5 }, bus),
    ]);
    const controller = new AbortController();
    const result = withSignal(controller.signal, () => call()).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(500);
    expect(method).toHaveBeenCalledTimes(1);
    controller.abort();
    expect(await result).toBeInstanceOf(CallAbortedError);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(method).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
    expect(abortListeners(controller.signal)).toBe(0);
  });

  it('takes a queued call out of the bulkhead queue; the running call is untouched', async () => {
    const bulkhead = new BulkheadState(
      'pool',
      { ...DEFAULT_BULKHEAD_OPTIONS, maxConcurrent: 1, maxQueue: 1, maxWait: 60_000 },
      new ResilienceEvents(),
    );
    const { method } = work(1_000);
    const { call } = resilient(method, () => [new BulkheadPolicy(bulkhead)]);
    const running = call();
    const controller = new AbortController();
    const queued = withSignal(controller.signal, () => call()).catch((error: unknown) => error);
    expect(bulkhead.snapshot()).toMatchObject({ active: 1, queued: 1 });
    controller.abort();
    expect(await queued).toBeInstanceOf(CallAbortedError);
    expect(bulkhead.snapshot()).toMatchObject({ active: 1, queued: 0 });
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(running).resolves.toBe('ok');
    expect(method).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('aborts every hedged attempt', async () => {
    const { method, signals } = work(1_000);
    const { call } = resilient(method, (bus) => [
      new HedgePolicy('h', { ...DEFAULT_HEDGE_OPTIONS, delay: 100, maxHedges: 2 }, bus),
    ]);
    const controller = new AbortController();
    const result = withSignal(controller.signal, () => call()).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(250);
    expect(signals).toHaveLength(3);
    controller.abort();
    expect(await result).toBeInstanceOf(CallAbortedError);
    expect(signals.map((signal) => signal.aborted)).toEqual([true, true, true]);
    await vi.runAllTimersAsync();
    expect(method).toHaveBeenCalledTimes(3);
  });

  it('is not recorded by a circuit breaker as a downstream failure', async () => {
    const breaker = new CircuitBreakerState(
      'c',
      { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, minimumCalls: 1, failureRateThreshold: 50 },
      new ResilienceEvents(),
    );
    const { method } = work(1_000);
    const { call } = resilient(method, () => [new CircuitBreakerPolicy(breaker)]);
    const controller = new AbortController();
    const result = withSignal(controller.signal, () => call()).catch((error: unknown) => error);
    controller.abort();
    expect(await result).toBeInstanceOf(CallAbortedError);
    await vi.runAllTimersAsync();
    expect(breaker.snapshot().state).toBe('closed');
    expect(breaker.snapshot()).toMatchObject({ failures: 0 });
  });

  it('never starts a call whose signal is already aborted', async () => {
    const { method } = work(10);
    const { call } = resilient(method, () => []);
    const controller = new AbortController();
    controller.abort();
    await expect(withSignal(controller.signal, () => call())).rejects.toBeInstanceOf(CallAbortedError);
    expect(method).not.toHaveBeenCalled();
  });

  it('reaches calls made after an await inside the scope, and leaves no listener once they settle', async () => {
    const { method } = work(10);
    const { call } = resilient(method, () => []);
    const controller = new AbortController();
    const both = withSignal(controller.signal, async () => {
      const first = await call();
      await Promise.resolve();
      const second = call(); // after an await: still in the scope
      expect(abortListeners(controller.signal)).toBe(1);
      return [first, await second];
    });
    await vi.advanceTimersByTimeAsync(20);
    await expect(both).resolves.toEqual(['ok', 'ok']);
    expect(abortListeners(controller.signal)).toBe(0);
    // Outside the scope a call has no caller signal.
    const outside = call();
    expect(abortListeners(controller.signal)).toBe(0);
    await vi.advanceTimersByTimeAsync(10);
    await outside;
  });

  it('refuses a signal that is not an AbortSignal', () => {
    expect(() => withSignal({} as AbortSignal, () => undefined)).toThrow(/must be an AbortSignal, got object/);
  });

  it('gives up an Observable method called in the scope as a Promise one: torn down, error, no listener', async () => {
    for (const shape of ['promise', 'observable'] as const) {
      const teardown = vi.fn();
      const method = vi.fn(() =>
        shape === 'promise'
          ? work(1_000).method()
          : new Observable<string>((subscriber) => {
              const timer = setTimeout(() => subscriber.next('late'), 1_000);
              return () => {
                clearTimeout(timer);
                teardown();
              };
            }),
      );
      const { call } = resilient(
        method as () => Promise<string>,
        (bus) => [new RetryPolicy('r', { ...DEFAULT_RETRY_OPTIONS, maxAttempts: 2 }, bus)],
        shape,
      );
      const controller = new AbortController();
      const result = withSignal(controller.signal, () =>
        shape === 'promise' ? call() : lastValueFrom(call() as unknown as Observable<string>),
      ).catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(100);
      controller.abort();
      expect(await result).toBeInstanceOf(CallAbortedError);
      if (shape === 'observable') expect(teardown).toHaveBeenCalledTimes(1);
      expect(abortListeners(controller.signal)).toBe(0);
      await vi.runAllTimersAsync();
      expect(method).toHaveBeenCalledTimes(1);
      expect(vi.getTimerCount()).toBe(0);
    }
  });
});
