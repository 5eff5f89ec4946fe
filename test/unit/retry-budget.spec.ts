import { firstValueFrom, throwError } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { retryBudgetExhaustedOf, type RetryOptions } from '../../lib/index.js';
import { RetryPolicy } from '../../lib/core/retry/retry.policy.js';
import { DEFAULT_RETRY_OPTIONS } from '../../lib/core/retry/retry.options.js';
import { RetryBudgetState } from '../../lib/core/retry/retry-budget.state.js';
import {
  DEFAULT_RETRY_BUDGET_OPTIONS,
  validateRetryBudgetOptions,
  type RetryBudgetOptions,
} from '../../lib/core/retry/retry-budget.options.js';
import { OptionsValidator } from '../../lib/core/validation/options.validator.js';
import { resilient } from './policy-harness.js';

const budgetOf = (options: Partial<RetryBudgetOptions> = {}) =>
  new RetryBudgetState('default', { ...DEFAULT_RETRY_BUDGET_OPTIONS, ...options });

const retry = (options: Partial<RetryOptions> = {}): RetryOptions => ({
  ...DEFAULT_RETRY_OPTIONS,
  jitter: 'none',
  backoff: 'constant',
  initialDelay: 10,
  ...options,
});

/** A downstream that is 100% down: every call fails after `latency` ms. */
function downstream(latency: number) {
  return vi.fn(() => new Promise<never>((_, reject) => setTimeout(() => reject(new Error('down')), latency)));
}

describe('RetryBudgetState', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('allows minPerSecond x window retries with no traffic, then refuses', () => {
    const budget = budgetOf({ ratio: 0.2, minPerSecond: 1, window: 5_000 });
    const granted = Array.from({ length: 8 }, () => budget.tryRetry()).filter(Boolean).length;
    expect(granted).toBe(5);
    expect(budget.snapshot()).toMatchObject({ retries: 5, available: 0, exhausted: 3 });
  });

  it('adds ratio x the calls of the window', () => {
    const budget = budgetOf({ ratio: 0.2, minPerSecond: 0, window: 10_000 });
    for (let call = 0; call < 50; call++) budget.recordCall();
    const granted = Array.from({ length: 50 }, () => budget.tryRetry()).filter(Boolean).length;
    expect(granted).toBe(10);
    expect(budget.snapshot()).toMatchObject({ calls: 50, retries: 10, available: 0 });
  });

  it('forgets calls and retries once they leave the sliding window', () => {
    const budget = budgetOf({ ratio: 1, minPerSecond: 0, window: 10_000 });
    for (let call = 0; call < 10; call++) budget.recordCall();
    for (let spent = 0; spent < 10; spent++) expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    vi.advanceTimersByTime(5_000);
    budget.recordCall(); // half a window later: the first ten still count, one more call earns one more retry
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    vi.advanceTimersByTime(6_000);
    // The first ten calls and retries have left the window; the call and retry of 5 s ago remain.
    expect(budget.snapshot()).toMatchObject({ calls: 1, retries: 1, available: 0 });
    vi.advanceTimersByTime(10_000);
    expect(budget.snapshot()).toMatchObject({ calls: 0, retries: 0 });
  });
});

describe('validateRetryBudgetOptions', () => {
  const validate = (options: Record<string, unknown>) =>
    validateRetryBudgetOptions(
      { ...DEFAULT_RETRY_BUDGET_OPTIONS, ...options },
      new OptionsValidator('retry budget', 'default', 'ResilienceModule options "retryBudgets"'),
    );

  it('accepts numeric strings, as ConfigService gives them', () => {
    expect(validate({ ratio: '0.1', minPerSecond: '5', window: '1000' })).toEqual({
      ratio: 0.1,
      minPerSecond: 5,
      window: 1000,
    });
  });

  it('refuses a budget that allows no retry at all', () => {
    expect(() => validate({ ratio: 0, minPerSecond: 0 })).toThrow(
      'Invalid retry budget option "ratio" = 0 for policy "default" (declared on ResilienceModule options ' +
        '"retryBudgets"): and minPerSecond are both 0: the budget would allow no retry at all ' +
        '(remove @Retry, or set maxAttempts: 1)',
    );
  });

  it.each([
    [{ ratio: -0.1 }, /"ratio" = -0.1 .*must be a finite number >= 0/],
    [{ minPerSecond: 'ten' }, /"minPerSecond" = "ten" .*got the string "ten"/],
    [{ window: 0 }, /"window" = 0 .*greater than 0/],
    [{ window: 2 ** 31 }, /"window" = 2147483648 .*at most 2147483647 ms/],
    [{ window: 50 }, /"window" = 50 .*at least 100 ms/],
    [{ ration: 0.2 }, /Unknown retry budget option "ration".*Did you mean "ratio"/],
  ])('refuses %j', (options, message) => {
    expect(() => validate(options)).toThrow(message);
  });
});

describe('RetryPolicy with a budget', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('keeps a dependency that is 100% down at about 1.2x the first attempts, not maxAttempts x', async () => {
    // Finagle's defaults; 50 callers calling again as soon as a call fails, for 20 s.
    const budget = budgetOf();
    const method = downstream(50);
    const { call, events } = resilient(method, (bus) => [new RetryPolicy('r', retry({ maxAttempts: 5 }), bus, budget)]);
    const firstAttempts = { count: 0 };
    let running = true;
    const caller = async () => {
      while (running) {
        firstAttempts.count++;
        await call().catch(() => undefined);
      }
    };
    const callers = Array.from({ length: 50 }, caller);
    await vi.advanceTimersByTimeAsync(20_000);
    running = false;
    await vi.runAllTimersAsync();
    await Promise.all(callers);
    const ratio = method.mock.calls.length / firstAttempts.count;
    expect(firstAttempts.count).toBeGreaterThan(10_000);
    expect(ratio).toBeGreaterThan(1.1); // the budget is spent, not unused
    expect(ratio).toBeLessThan(1.25);
    expect(events.some((event) => event.type === 'retry-budget-exhausted')).toBe(true);
  });

  it('lets a burst of 50 concurrent calls retry 20% of them when the floor is 0', async () => {
    const budget = budgetOf({ minPerSecond: 0 });
    const method = downstream(5);
    const { call } = resilient(method, (bus) => [new RetryPolicy('r', retry({ maxAttempts: 5 }), bus, budget)]);
    const calls = Array.from({ length: 50 }, () => call().catch((error: unknown) => error));
    await vi.runAllTimersAsync();
    await Promise.all(calls);
    expect(method).toHaveBeenCalledTimes(60);
  });

  it('fails at once with the last error, marked with the budget, and reports it', async () => {
    const budget = budgetOf({ ratio: 0.5, minPerSecond: 0 });
    const method = downstream(5);
    const { call, events } = resilient(method, (bus) => [
      new RetryPolicy('r', retry({ maxAttempts: 3, initialDelay: 1_000 }), bus, budget),
    ]);
    // One call earns half a retry: none may start.
    const result = call().catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(5);
    const error = await result;
    expect(method).toHaveBeenCalledTimes(1);
    expect(error).toMatchObject({ message: 'down', retryBudgetExhausted: 'default' });
    expect(retryBudgetExhaustedOf(error)).toBe('default');
    expect(events).toEqual([
      expect.objectContaining({ type: 'retry-budget-exhausted', policy: 'r', budget: 'default', attempt: 1, error }),
    ]);
  });

  it('spends nothing for errors that are not retried', async () => {
    const budget = budgetOf({ ratio: 0, minPerSecond: 1, window: 1_000 });
    const notFound = Object.assign(new Error('not found'), { status: 404 });
    const { call } = resilient(
      vi.fn(async () => Promise.reject(notFound)),
      (bus) => [new RetryPolicy('r', retry(), bus, budget)],
    );
    await expect(call()).rejects.toBe(notFound);
    expect(budget.snapshot()).toMatchObject({ calls: 1, retries: 0, exhausted: 0 });
    expect(retryBudgetExhaustedOf(notFound)).toBeUndefined();
  });

  it('applies to Observable methods too', async () => {
    const budget = budgetOf({ ratio: 0.2, minPerSecond: 0 });
    let subscriptions = 0;
    const method = vi.fn(() => throwError(() => (subscriptions++, new Error('down'))));
    const { call } = resilient(
      method,
      (bus) => [new RetryPolicy('r', retry({ maxAttempts: 5 }), bus, budget)],
      'observable',
    );
    const calls = Array.from({ length: 10 }, () => firstValueFrom(call()).catch((error: unknown) => error));
    await vi.runAllTimersAsync();
    const errors = await Promise.all(calls);
    expect(subscriptions).toBe(12);
    expect(errors.filter((error) => retryBudgetExhaustedOf(error) === 'default')).toHaveLength(10);
  });
});
