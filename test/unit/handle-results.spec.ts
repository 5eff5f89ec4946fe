import { defer, lastValueFrom, of, type Observable } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResilienceConfigError, type HedgeOptions, type RetryOptions } from '../../lib/index.js';
import { DEFAULT_HEDGE_OPTIONS } from '../../lib/core/hedge/hedge.options.js';
import { DEFAULT_RETRY_OPTIONS } from '../../lib/core/retry/retry.options.js';
import { HedgePolicy } from '../../lib/core/hedge/hedge.policy.js';
import { validateHedgeOptions } from '../../lib/core/hedge/hedge.options.js';
import { RetryPolicy } from '../../lib/core/retry/retry.policy.js';
import { validateRetryOptions } from '../../lib/core/retry/retry.options.js';
import { OptionsValidator } from '../../lib/core/validation/options.validator.js';
import { resilient } from './policy-harness.js';

/**
 * `retryOnResult` and `hedgeOnResult`: a value the predicate matches is a failed attempt. Every behaviour runs on
 * both hot paths (a Promise method and an Observable one through the fused sinks) in the same test.
 */

const retry = (options: Partial<RetryOptions>): RetryOptions => ({
  ...DEFAULT_RETRY_OPTIONS,
  jitter: 'none',
  initialDelay: 100,
  backoff: 'constant',
  ...options,
});
const hedge = (options: Partial<HedgeOptions>): HedgeOptions => ({ ...DEFAULT_HEDGE_OPTIONS, ...options });

interface Status {
  readonly status: string;
}

/** A downstream answering these statuses in turn (the last one from then on), counting its calls. */
function answering(...statuses: string[]) {
  let calls = 0;
  const next = (): Status => ({ status: statuses[Math.min(calls++, statuses.length - 1)] });
  return { promise: vi.fn(async () => next()), observable: vi.fn(() => defer(() => of(next()))) };
}

/** Runs one call on both paths, advancing fake time until each settles. */
async function bothPaths(
  statuses: string[],
  policies: Parameters<typeof resilient>[1],
): Promise<{ values: unknown[]; calls: number[]; events: string[][] }> {
  const values: unknown[] = [];
  const calls: number[] = [];
  const events: string[][] = [];
  for (const shape of ['promise', 'observable'] as const) {
    const downstream = answering(...statuses);
    const { call, events: seen } = resilient(downstream[shape] as () => unknown, policies, shape);
    const result = shape === 'promise' ? call() : lastValueFrom(call() as unknown as Observable<unknown>);
    const settled = result.then(
      (value) => value,
      (error: unknown) => ({ error }),
    );
    await vi.runAllTimersAsync();
    values.push(await settled);
    calls.push(downstream[shape].mock.calls.length);
    events.push(seen.map((event) => event.type));
  }
  return { values, calls, events };
}

const pending = (value: unknown) => (value as Status).status === 'pending';

describe('retryOnResult', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('retries a value it matches, and answers the first that does not match, on both paths', async () => {
    const outcome = await bothPaths(['pending', 'pending', 'done'], (bus) => [
      new RetryPolicy('orders', retry({ maxAttempts: 5, retryOnResult: pending }), bus),
    ]);
    expect(outcome.values).toEqual([{ status: 'done' }, { status: 'done' }]);
    expect(outcome.calls).toEqual([3, 3]);
    expect(outcome.events).toEqual([
      ['retry', 'retry'],
      ['retry', 'retry'],
    ]);
  });

  it('answers the last value when every attempt matched (as Polly does), and reports the give-up', async () => {
    const outcome = await bothPaths(['pending'], (bus) => [
      new RetryPolicy('orders', retry({ maxAttempts: 3, retryOnResult: pending }), bus),
    ]);
    expect(outcome.values).toEqual([{ status: 'pending' }, { status: 'pending' }]);
    expect(outcome.calls).toEqual([3, 3]);
    expect(outcome.events).toEqual([
      ['retry', 'retry', 'retry-give-up'],
      ['retry', 'retry', 'retry-give-up'],
    ]);
  });

  it('reports the value it retried for and gave up on, with no error', async () => {
    const { call, events } = resilient(answering('pending').promise, (bus) => [
      new RetryPolicy('orders', retry({ maxAttempts: 2, retryOnResult: pending }), bus),
    ]);
    const result = call();
    await vi.runAllTimersAsync();
    await result;
    expect(events).toEqual([
      expect.objectContaining({
        type: 'retry',
        attempt: 1,
        delay: 100,
        error: undefined,
        result: { status: 'pending' },
      }),
      expect.objectContaining({ type: 'retry-give-up', attempts: 2, byResult: true, result: { status: 'pending' } }),
    ]);
  });

  it('waits the backoff before retrying a value, as for an error', async () => {
    for (const shape of ['promise', 'observable'] as const) {
      const downstream = answering('pending', 'done');
      const { call } = resilient(
        downstream[shape] as () => unknown,
        (bus) => [new RetryPolicy('orders', retry({ retryOnResult: pending }), bus)],
        shape,
      );
      const result = shape === 'promise' ? call() : lastValueFrom(call() as unknown as Observable<unknown>);
      await vi.advanceTimersByTimeAsync(99);
      expect(downstream[shape]).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(1);
      await expect(result).resolves.toEqual({ status: 'done' });
      expect(downstream[shape]).toHaveBeenCalledTimes(2);
      expect(vi.getTimerCount()).toBe(0);
    }
  });

  it('fails the call with the error of a throwing predicate, on both paths, without retrying', async () => {
    const outcome = await bothPaths(['pending'], (bus) => [
      new RetryPolicy(
        'orders',
        retry({
          retryOnResult: () => {
            throw new Error('predicate broke');
          },
        }),
        bus,
      ),
    ]);
    expect(outcome.values).toEqual([{ error: new Error('predicate broke') }, { error: new Error('predicate broke') }]);
    expect(outcome.calls).toEqual([1, 1]);
  });

  it('still retries errors as before, and a later value is checked too', async () => {
    let calls = 0;
    const method = vi.fn(async () => {
      calls++;
      if (calls === 1) throw new Error('transient');
      return { status: calls === 2 ? 'pending' : 'done' };
    });
    const { call } = resilient(method, (bus) => [
      new RetryPolicy('orders', retry({ maxAttempts: 5, retryOnResult: pending }), bus),
    ]);
    const result = call();
    await vi.runAllTimersAsync();
    await expect(result).resolves.toEqual({ status: 'done' });
    expect(method).toHaveBeenCalledTimes(3);
  });

  it('on an Observable, checks values until one is passed on: a stream is never retried mid-way', async () => {
    let subscriptions = 0;
    const method = vi.fn(() => defer(() => (++subscriptions === 1 ? of('pending', 'x') : of('done', 'pending'))));
    const { call } = resilient(
      method,
      (bus) => [new RetryPolicy('orders', retry({ retryOnResult: (value) => value === 'pending' }), bus)],
      'observable',
    );
    const values: unknown[] = [];
    call().subscribe((value) => values.push(value));
    await vi.runAllTimersAsync();
    // The first attempt's "pending" ended it before "x"; the second passed "done" on, then "pending" unchecked.
    expect(values).toEqual(['done', 'pending']);
    expect(subscriptions).toBe(2);
  });

  it('refuses a predicate that is not a function, naming option, value, type and policy', () => {
    const validator = new OptionsValidator('retry', 'orders', 'OrdersService.find');
    expect(() => validateRetryOptions(retry({ retryOnResult: 'pending' as never }), validator)).toThrow(
      ResilienceConfigError,
    );
    expect(() => validateRetryOptions(retry({ retryOnResult: 'pending' as never }), validator)).toThrow(
      /retry option "retryOnResult" = "pending" for policy "orders".*must be a function, got the string/s,
    );
    expect(() => validateRetryOptions(retry({ retryOnResult: 'pending' as never }), validator)).toThrow(/orders/);
  });
});

describe('hedgeOnResult', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('hedges at once after a value it matches, and the next answer wins, on both paths', async () => {
    const outcome = await bothPaths(['pending', 'done'], (bus) => [
      new HedgePolicy('h', hedge({ delay: 1_000, maxHedges: 2, hedgeOnResult: pending }), bus),
    ]);
    expect(outcome.values).toEqual([{ status: 'done' }, { status: 'done' }]);
    expect(outcome.calls).toEqual([2, 2]);
    // Started at once (no 1 s wait): the second attempt began when the first answered "pending".
    expect(outcome.events).toEqual([['hedge'], ['hedge']]);
  });

  it('answers the first matching value when every attempt matched, on both paths', async () => {
    const outcome = await bothPaths(['pending'], (bus) => [
      new HedgePolicy('h', hedge({ delay: 10, maxHedges: 2, hedgeOnResult: pending }), bus),
    ]);
    expect(outcome.values).toEqual([{ status: 'pending' }, { status: 'pending' }]);
    expect(outcome.calls).toEqual([3, 3]);
  });

  it('prefers a matching value to an error when every attempt failed', async () => {
    let calls = 0;
    const method = vi.fn(async () => {
      if (++calls === 1) throw new Error('down');
      return { status: 'pending' };
    });
    const { call } = resilient(method, (bus) => [
      new HedgePolicy('h', hedge({ delay: 10, maxHedges: 1, hedgeOnResult: pending }), bus),
    ]);
    const result = call();
    await vi.runAllTimersAsync();
    await expect(result).resolves.toEqual({ status: 'pending' });
  });

  it('refuses a predicate that is not a function at startup', () => {
    const validator = new OptionsValidator('hedge', 'Orders.find', 'Orders.find');
    expect(() => validateHedgeOptions(hedge({ hedgeOnResult: 1 as never }), validator)).toThrow(
      /hedge option "hedgeOnResult" = 1 .*must be a function, got the number 1/s,
    );
  });
});
