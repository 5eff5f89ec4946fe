import { HttpException, HttpStatus } from '@nestjs/common';
import { defer, firstValueFrom, throwError } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  getTimeoutSignal,
  RateLimitExceededError,
  TimeoutError,
  type RetryOptions,
} from '../../lib/index.js';
import { RetryPolicy } from '../../lib/core/retry/retry.policy.js';
import { DEFAULT_RETRY_OPTIONS } from '../../lib/core/retry/retry.options.js';
import { TimeoutPolicy } from '../../lib/core/timeout/timeout.policy.js';
import { resilient } from './policy-harness.js';

const exact = (options: Partial<RetryOptions> = {}): RetryOptions => ({
  ...DEFAULT_RETRY_OPTIONS,
  jitter: 'none',
  ...options,
});

/** A method that fails `failures` times with `error`, then answers `'ok'`. */
function failing(failures: number, error: () => unknown = () => new Error('transient')) {
  let calls = 0;
  return vi.fn(async () => {
    calls++;
    if (calls <= failures) throw error();
    return 'ok';
  });
}

describe('RetryPolicy', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('makes maxAttempts calls in total, not maxAttempts retries', async () => {
    const method = failing(10);
    const { call, events } = resilient(method, (bus) => [new RetryPolicy('r', exact({ maxAttempts: 3 }), bus)]);
    const result = call();
    const assertion = expect(result).rejects.toThrow('transient');
    await vi.runAllTimersAsync();
    await assertion;
    expect(method).toHaveBeenCalledTimes(3);
    expect(events.map((event) => event.type === 'retry' && event.attempt)).toEqual([1, 2, false]);
    expect(events[2]).toMatchObject({
      type: 'retry-give-up',
      attempts: 3,
      byResult: false,
      error: { message: 'transient' },
    });
  });

  it('answers with the first success', async () => {
    const method = failing(2);
    const { call } = resilient(method, (bus) => [new RetryPolicy('r', exact({ maxAttempts: 5 }), bus)]);
    const result = call();
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe('ok');
    expect(method).toHaveBeenCalledTimes(3);
  });

  it.each([
    ['exponential', [100, 200, 400, 500]],
    ['linear', [100, 200, 300, 400]],
    ['constant', [100, 100, 100, 100]],
  ] as const)('waits %s delays capped by maxDelay', async (backoff, expected) => {
    const method = failing(10);
    const options = exact({ maxAttempts: 5, backoff, initialDelay: 100, maxDelay: 500 });
    const { call, events } = resilient(method, (bus) => [new RetryPolicy('r', options, bus)]);
    const result = call().catch(() => undefined);
    await vi.runAllTimersAsync();
    await result;
    const retries = events.filter((event) => event.type === 'retry');
    expect(retries.map((event) => event.delay)).toEqual(expected);
  });

  it('starts the next attempt only after the delay', async () => {
    const method = failing(1);
    const { call } = resilient(method, (bus) => [new RetryPolicy('r', exact({ initialDelay: 100 }), bus)]);
    const result = call();
    await vi.advanceTimersByTimeAsync(99);
    expect(method).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(method).toHaveBeenCalledTimes(2);
    await expect(result).resolves.toBe('ok');
  });

  it.each([
    ['HttpException 400', () => new HttpException('bad', HttpStatus.BAD_REQUEST)],
    ['status 404', () => Object.assign(new Error('missing'), { status: 404 })],
    ['statusCode 422', () => Object.assign(new Error('invalid'), { statusCode: 422 })],
    ['axios response 401', () => Object.assign(new Error('denied'), { response: { status: 401 } })],
    ['open circuit', () => new BrokenCircuitError('payments', Date.now() + 1000)],
    ['full bulkhead', () => new BulkheadRejectedError('pool', 'full')],
    ['rate limit', () => new RateLimitExceededError('quota', 500)],
  ])('does not retry %s', async (_label, error) => {
    const thrown = error();
    const method = failing(1, () => thrown);
    const { call } = resilient(method, (bus) => [new RetryPolicy('r', exact(), bus)]);
    await expect(call()).rejects.toBe(thrown);
    expect(method).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0); // no retry scheduled
  });

  it.each([
    ['HttpException 503', () => new HttpException('down', HttpStatus.SERVICE_UNAVAILABLE)],
    ['status 408', () => Object.assign(new Error('slow'), { status: 408 })],
    ['status 429', () => Object.assign(new Error('busy'), { status: 429 })],
    ['network error', () => Object.assign(new Error('reset'), { code: 'ECONNRESET' })],
    ['timeout', () => new TimeoutError('t', 100)],
  ])('retries %s', async (_label, error) => {
    const method = failing(1, error);
    const { call } = resilient(method, (bus) => [new RetryPolicy('r', exact({ initialDelay: 1 }), bus)]);
    const result = call();
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe('ok');
    expect(method).toHaveBeenCalledTimes(2);
  });

  it('lets retryIf decide, with the attempt number, and replaces the 4xx default', async () => {
    const retryIf = vi.fn((_error: unknown, attempt: number) => attempt < 2);
    const method = failing(5, () => Object.assign(new Error('conflict'), { status: 409 }));
    const { call } = resilient(method, (bus) => [new RetryPolicy('r', exact({ maxAttempts: 5, retryIf }), bus)]);
    const result = call().catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    expect(await result).toMatchObject({ status: 409 });
    expect(method).toHaveBeenCalledTimes(2);
    expect(retryIf.mock.calls.map(([, attempt]) => attempt)).toEqual([1, 2]);
  });

  it('never retries its own rejections, whatever retryIf says', async () => {
    const method = failing(1, () => new BrokenCircuitError('b'));
    const { call } = resilient(method, (bus) => [new RetryPolicy('r', exact({ retryIf: () => true }), bus)]);
    await expect(call()).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(method).toHaveBeenCalledTimes(1);
  });

  it('retries only the listed error classes and never the ignored ones', async () => {
    class Transient extends Error {}
    class Fatal extends Transient {}
    const options = exact({ initialDelay: 1, retryErrors: [Transient], ignoreErrors: [Fatal] });

    const transient = failing(1, () => new Transient('t'));
    const first = resilient(transient, (bus) => [new RetryPolicy('r', options, bus)]).call();
    await vi.runAllTimersAsync();
    await expect(first).resolves.toBe('ok');

    const fatal = failing(1, () => new Fatal('f'));
    await expect(resilient(fatal, (bus) => [new RetryPolicy('r', options, bus)]).call()).rejects.toBeInstanceOf(Fatal);
    expect(fatal).toHaveBeenCalledTimes(1);

    const other = failing(1, () => new Error('other'));
    await expect(resilient(other, (bus) => [new RetryPolicy('r', options, bus)]).call()).rejects.toThrow('other');
    expect(other).toHaveBeenCalledTimes(1);
  });

  it('honours Retry-After on a 429, capped by maxDelay', async () => {
    const tooMany = (seconds: string) => () =>
      Object.assign(new Error('slow down'), { response: { status: 429, headers: { 'retry-after': seconds } } });
    const options = exact({ initialDelay: 10, maxDelay: 5000 });

    const polite = resilient(failing(1, tooMany('2')), (bus) => [new RetryPolicy('r', options, bus)]);
    const first = polite.call();
    await vi.runAllTimersAsync();
    await first;
    expect(polite.events[0]).toMatchObject({ type: 'retry', delay: 2000 });

    const greedy = resilient(failing(1, tooMany('3600')), (bus) => [new RetryPolicy('r', options, bus)]);
    const second = greedy.call();
    await vi.runAllTimersAsync();
    await second;
    expect(greedy.events[0]).toMatchObject({ type: 'retry', delay: 5000 });
  });

  it('under a derived @Idempotent lease honours Retry-After only up to the wait the lease counted', async () => {
    const busy = () => Object.assign(new Error('busy'), { response: { status: 503, headers: { 'retry-after': '5' } } });
    const options = exact({ maxAttempts: 3, backoff: 'constant', initialDelay: 100 });
    const leased = resilient(failing(2, busy), (bus) => [new RetryPolicy('r', options, bus, undefined, true)]);
    const result = leased.call();
    await vi.runAllTimersAsync();
    expect(await result).toBe('ok');
    // The lease counted 100 ms per gap (constant backoff), not maxDelay's 10 s: a 5 s wait would outlive it.
    expect(leased.events.filter((event) => event.type === 'retry').map((event) => event.delay)).toEqual([100, 100]);

    const free = resilient(failing(1, busy), (bus) => [new RetryPolicy('r', options, bus)]);
    const second = free.call();
    await vi.runAllTimersAsync();
    await second;
    expect(free.events[0]).toMatchObject({ type: 'retry', delay: 5000 });
  });

  it('gives each attempt a fresh signal', async () => {
    const signals: (AbortSignal | undefined)[] = [];
    const method = vi.fn(async () => {
      signals.push(getTimeoutSignal());
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return 'slow';
    });
    const { call } = resilient(method, (bus) => [
      new RetryPolicy('r', exact({ maxAttempts: 2, initialDelay: 10 }), bus),
      new TimeoutPolicy('t', 100, 'attempt', bus),
    ]);
    const result = call().catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    expect(await result).toBeInstanceOf(TimeoutError);
    expect(signals).toHaveLength(2);
    expect(signals[0]).not.toBe(signals[1]);
    expect(signals.every((signal) => signal?.aborted)).toBe(true);
  });

  describe('on Observables', () => {
    it('re-subscribes the source for each attempt', async () => {
      const method = failing(2);
      const { call } = resilient(
        () => defer(() => method()),
        (bus) => [new RetryPolicy('r', exact({ initialDelay: 10 }), bus)],
        'observable',
      );
      const result = firstValueFrom(call());
      await vi.runAllTimersAsync();
      await expect(result).resolves.toBe('ok');
      expect(method).toHaveBeenCalledTimes(3);
    });

    it('stops at once when the caller unsubscribes during the backoff wait', async () => {
      const attempts = vi.fn(() => throwError(() => new Error('down')));
      const { call } = resilient(
        () => defer(attempts),
        (bus) => [new RetryPolicy('r', exact({ maxAttempts: 5, initialDelay: 1000 }), bus)],
        'observable',
      );
      const subscription = call().subscribe({ error: () => undefined });
      expect(attempts).toHaveBeenCalledTimes(1);
      expect(vi.getTimerCount()).toBe(1);
      subscription.unsubscribe();
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(attempts).toHaveBeenCalledTimes(1);
    });

    it('does not retry a client error', async () => {
      const attempts = vi.fn(() => throwError(() => new HttpException('nope', 404)));
      const { call } = resilient(
        () => defer(attempts),
        (bus) => [new RetryPolicy('r', exact(), bus)],
        'observable',
      );
      await expect(firstValueFrom(call())).rejects.toBeInstanceOf(HttpException);
      expect(attempts).toHaveBeenCalledTimes(1);
    });
  });
});
