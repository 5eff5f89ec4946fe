import { firstValueFrom, NEVER, Observable } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getTimeoutSignal, TimeoutError } from '../../lib/index.js';
import { RetryPolicy } from '../../lib/core/retry/retry.policy.js';
import { DEFAULT_RETRY_OPTIONS } from '../../lib/core/retry/retry.options.js';
import { TimeoutPolicy } from '../../lib/core/timeout/timeout.policy.js';
import { resilient } from './policy-harness.js';

const sleep = (ms: number, value?: unknown) => new Promise((resolve) => setTimeout(() => resolve(value), ms));

describe('TimeoutPolicy', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('rejects with a TimeoutError naming the policy once the duration has passed', async () => {
    const { call, events } = resilient(
      () => sleep(1000, 'late'),
      (bus) => [new TimeoutPolicy('slow-api', 100, 'attempt', bus)],
    );
    const result = call();
    const assertion = expect(result).rejects.toMatchObject({
      code: 'TIMEOUT',
      policy: 'slow-api',
      duration: 100,
      message: expect.stringContaining('"slow-api"') as string,
    });
    await vi.advanceTimersByTimeAsync(99);
    expect(events).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await assertion;
    await expect(result).rejects.toBeInstanceOf(TimeoutError);
    expect(events).toEqual([
      expect.objectContaining({ type: 'timeout', policy: 'slow-api', attempt: 1, duration: 100 }),
    ]);
  });

  it('resolves a call that finishes in time, and its deadline never fires', async () => {
    const { call, events } = resilient(
      () => sleep(50, 'ok'),
      (bus) => [new TimeoutPolicy('t', 100, 'attempt', bus)],
    );
    const result = call();
    await vi.advanceTimersByTimeAsync(50);
    await expect(result).resolves.toBe('ok');
    // The shared timer of the policy's deadlines runs out at the old deadline without doing anything, and is gone.
    await vi.advanceTimersByTimeAsync(100);
    expect(events).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('aborts the signal the method asked for', async () => {
    let signal: AbortSignal | undefined;
    const { call } = resilient(
      () => {
        signal = getTimeoutSignal();
        return sleep(1000);
      },
      (bus) => [new TimeoutPolicy('t', 100, 'attempt', bus)],
    );
    const result = call().catch((error: unknown) => error);
    expect(signal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(TimeoutError);
    expect(await result).toBeInstanceOf(TimeoutError);
  });

  it('creates no AbortController for a method that never asks for its signal, one for a method that does', async () => {
    let created = 0;
    vi.stubGlobal(
      'AbortController',
      class extends AbortController {
        constructor() {
          super();
          created++;
        }
      },
    );
    try {
      const quiet = resilient(
        () => sleep(10),
        (bus) => [new TimeoutPolicy('t', 100, 'attempt', bus)],
      );
      const quietResult = quiet.call();
      await vi.advanceTimersByTimeAsync(10);
      await quietResult;
      expect(created).toBe(0);
      const asking = resilient(
        () => {
          getTimeoutSignal();
          return sleep(10);
        },
        (bus) => [new TimeoutPolicy('t', 100, 'attempt', bus)],
      );
      const askingResult = asking.call();
      await vi.advanceTimersByTimeAsync(10);
      await askingResult;
      expect(created).toBe(1);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('gives a method outside any policy no signal', () => {
    expect(getTimeoutSignal()).toBeUndefined();
  });

  it('does not abort the signal of a call that succeeded', async () => {
    let signal: AbortSignal | undefined;
    const { call } = resilient(
      () => {
        signal = getTimeoutSignal();
        return sleep(10, 'done');
      },
      (bus) => [new TimeoutPolicy('t', 100, 'attempt', bus)],
    );
    const result = call();
    await vi.advanceTimersByTimeAsync(200);
    await expect(result).resolves.toBe('done');
    expect(signal?.aborted).toBe(false);
  });

  it('unsubscribes an Observable source at the deadline', async () => {
    const teardown = vi.fn();
    const { call } = resilient(
      () => new Observable<number>(() => teardown),
      (bus) => [new TimeoutPolicy('t', 100, 'attempt', bus)],
      'observable',
    );
    const result = firstValueFrom(call());
    const assertion = expect(result).rejects.toBeInstanceOf(TimeoutError);
    await vi.advanceTimersByTimeAsync(100);
    await assertion;
    expect(teardown).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('drops its deadline when the caller unsubscribes first', async () => {
    const { call, events } = resilient(
      () => NEVER,
      (bus) => [new TimeoutPolicy('t', 100, 'attempt', bus)],
      'observable',
    );
    const errors: unknown[] = [];
    const subscription = call().subscribe({ error: (error) => errors.push(error) });
    subscription.unsubscribe();
    await vi.advanceTimersByTimeAsync(200);
    expect(errors).toEqual([]);
    expect(events).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('with a total budget, stops retrying mid-backoff and leaves no timer', async () => {
    const method = vi.fn(() => sleep(60).then(() => Promise.reject(new Error('flaky'))));
    const retryOptions = { ...DEFAULT_RETRY_OPTIONS, maxAttempts: 10, initialDelay: 100, jitter: 'none' as const };
    const { call, events } = resilient(method, (bus) => [
      new TimeoutPolicy('budget', 250, 'total', bus),
      new RetryPolicy('r', retryOptions, bus),
    ]);
    const result = call();
    const assertion = expect(result).rejects.toMatchObject({ code: 'TIMEOUT', scope: 'total', duration: 250 });
    // attempt 1: 0-60, wait 100, attempt 2: 160-220, wait 200 (until 420) -> the budget fires at 250 during the wait
    await vi.advanceTimersByTimeAsync(250);
    await assertion;
    expect(method).toHaveBeenCalledTimes(2);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(method).toHaveBeenCalledTimes(2);
    expect(events.map((event) => event.type)).toEqual(['retry', 'retry', 'timeout']);
  });

  it('with a total budget, aborts the running attempt', async () => {
    const signals: (AbortSignal | undefined)[] = [];
    const { call } = resilient(
      () => {
        signals.push(getTimeoutSignal());
        return sleep(1000);
      },
      (bus) => [new TimeoutPolicy('budget', 300, 'total', bus)],
    );
    const result = call().catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(300);
    expect(await result).toMatchObject({ scope: 'total' });
    expect(signals[0]?.aborted).toBe(true);
  });
});
