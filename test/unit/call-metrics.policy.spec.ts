import { firstValueFrom, NEVER, Observable, of, throwError, timer, map } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BrokenCircuitError, BulkheadRejectedError, TimeoutError } from '../../lib/index.js';
import { CallMetricsPolicy } from '../../lib/core/metrics/call-metrics.policy.js';
import { TargetMetricsState } from '../../lib/core/metrics/target-metrics.state.js';
import { FallbackPolicy } from '../../lib/core/fallback/fallback.policy.js';
import { resilient } from './policy-harness.js';

function measured<T>(method: () => T, shape: 'promise' | 'observable' = 'promise', fallback = false) {
  const target = new TargetMetricsState('Test.method', 60_000, []);
  const { call } = resilient(
    method,
    (bus) => [
      new CallMetricsPolicy(target),
      ...(fallback ? [new FallbackPolicy('Test.method', () => 'fallback', undefined, bus)] : []),
    ],
    shape,
  );
  return { call, target };
}

describe('CallMetricsPolicy', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('records the duration the caller waited and the outcome of each Promise call', async () => {
    const { call, target } = measured(() => new Promise((resolve) => setTimeout(() => resolve(1), 250)));
    const result = call();
    await vi.advanceTimersByTimeAsync(250);
    await result;
    expect(target.snapshot()).toMatchObject({ count: 1, outcomes: { success: 1 } });
    expect(Math.round(target.snapshot().p50!)).toBe(250); // HDR histograms keep 3 significant figures
  });

  it.each([
    ['TimeoutError', new TimeoutError('t', 10, 'attempt'), 'timeout'],
    ['BrokenCircuitError', new BrokenCircuitError('b'), 'short_circuited'],
    ['BulkheadRejectedError', new BulkheadRejectedError('b', 'full'), 'rejected'],
    ['any other error', new Error('down'), 'failure'],
  ])('classifies %s as %s, on Promises and Observables alike', async (_name, error, outcome) => {
    const promise = measured(() => Promise.reject(error));
    await expect(promise.call()).rejects.toBe(error);
    expect(promise.target.snapshot().outcomes).toMatchObject({ [outcome]: 1 });
    const observable = measured(() => throwError(() => error), 'observable');
    await expect(firstValueFrom(observable.call() as Observable<unknown>)).rejects.toBe(error);
    expect(observable.target.snapshot().outcomes).toMatchObject({ [outcome]: 1 });
  });

  it('an idle target reports no percentiles (null, not 0 ms): before its first call and after a quiet window', () => {
    let now = 0;
    const target = new TargetMetricsState('Test.idle', 60_000, [], () => now);
    expect(target.snapshot()).toMatchObject({ count: 0, callsPerSecond: 0, p50: null, p95: null, p99: null });
    target.record('success', 40);
    expect(target.snapshot()).toMatchObject({ count: 1, p50: expect.closeTo(40, 0) as number });
    now = 200_000; // longer than the window without a call
    expect(target.snapshot()).toMatchObject({ count: 0, p50: null, p95: null, p99: null });
    expect(JSON.parse(JSON.stringify(target.snapshot()))).toMatchObject({ p50: null, p99: null });
  });

  it('counts a call answered by @Fallback as fallback, not success', async () => {
    const { call, target } = measured(() => Promise.reject(new Error('down')), 'promise', true);
    expect(await call()).toBe('fallback');
    const observable = measured(() => throwError(() => new Error('down')), 'observable', true);
    expect(await firstValueFrom(observable.call() as Observable<unknown>)).toBe('fallback');
    expect(target.snapshot().outcomes).toMatchObject({ fallback: 1, success: 0 });
    expect(observable.target.snapshot().outcomes).toMatchObject({ fallback: 1, success: 0 });
  });

  it('times an Observable call to its answer, and records nothing for a caller that gave up before one', async () => {
    const { call, target } = measured(() => timer(100).pipe(map(() => 1)), 'observable');
    const value = firstValueFrom(call());
    await vi.advanceTimersByTimeAsync(100);
    expect(await value).toBe(1);
    expect(target.snapshot()).toMatchObject({ count: 1 });
    expect(Math.round(target.snapshot().p50!)).toBe(100);

    const hanging = measured(() => NEVER, 'observable');
    const subscription = (hanging.call() as Observable<unknown>).subscribe();
    subscription.unsubscribe();
    expect(hanging.target.snapshot().count).toBe(0);
    const done = measured(() => of(1), 'observable');
    await firstValueFrom(done.call());
    expect(done.target.snapshot().outcomes.success).toBe(1);
  });
});
