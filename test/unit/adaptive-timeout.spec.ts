import { firstValueFrom, timer, map } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimeoutError } from '../../lib/index.js';
import { AdaptiveDuration } from '../../lib/core/timeout/adaptive-duration.js';
import { TimeoutPolicy } from '../../lib/core/timeout/timeout.policy.js';
import { resilient } from './policy-harness.js';

const OPTIONS = { percentile: 99, margin: 50, min: 100, max: 2000, minSamples: 20, window: 60_000 };

/** A downstream whose latency the test scripts, behind an adaptive timeout starting at 1000 ms. */
function downstreamBehindAdaptiveTimeout(options = OPTIONS) {
  const downstream = { latency: 100 };
  const adaptive = new AdaptiveDuration(1000, options);
  const { call, events } = resilient(
    () => new Promise((resolve) => setTimeout(() => resolve('ok'), downstream.latency)),
    (bus) => [new TimeoutPolicy('gateway', 1000, 'attempt', bus, adaptive)],
  );
  /** One call, timers advanced until it settles; the error when it failed. */
  const callOnce = async (): Promise<unknown> => {
    const settled = call().then(
      () => undefined,
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(downstream.latency);
    return settled;
  };
  /** `count` calls, one after another, then a second more: the duration is recomputed at most once a second. */
  const calls = async (count: number): Promise<unknown[]> => {
    const errors: unknown[] = [];
    for (let i = 0; i < count; i++) errors.push(await callOnce());
    await vi.advanceTimersByTimeAsync(1000);
    return errors.filter((error) => error !== undefined);
  };
  return { downstream, adaptive, callOnce, calls, events };
}

describe('adaptive @Timeout', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('keeps the configured duration until minSamples successes are known', async () => {
    const { adaptive, calls } = downstreamBehindAdaptiveTimeout();
    await calls(19);
    await calls(0);
    expect(adaptive.deadlines().duration).toBe(1000);
  });

  it('never exceeds max before minSamples: a duration above max starts at max, one below min at min', async () => {
    const capped = downstreamBehindAdaptiveTimeout({ ...OPTIONS, max: 300 }); // starts from 1000 ms
    capped.downstream.latency = 500;
    const error = await capped.callOnce();
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ duration: 300 });
    expect(capped.adaptive.current).toBe(300);

    const raised = new AdaptiveDuration(50, { ...OPTIONS, min: 100 });
    expect(raised.deadlines().duration).toBe(100);
  });

  it('follows p99 + margin of recent successes: 100 ms then 400 ms moves the timeout from 150 to 450 ms', async () => {
    const { downstream, adaptive, calls, callOnce, events } = downstreamBehindAdaptiveTimeout();
    expect(await calls(50)).toEqual([]);
    expect(adaptive.deadlines().duration).toBeOneOf([150, 151]); // HDR histograms keep 3 significant figures

    downstream.latency = 400;
    // The slower calls time out at first; they count as lasting the whole timeout, so it grows by the margin
    // each second until they fit.
    const first = await callOnce();
    expect(first).toBeInstanceOf(TimeoutError);
    expect((first as TimeoutError).duration).toBeOneOf([150, 151]); // the deadline learnt above, not 1000
    let timedOut = 1;
    for (let second = 0; second < 10 && adaptive.deadlines().duration <= 400; second++) {
      timedOut += (await calls(5)).length;
    }
    expect(timedOut).toBeGreaterThan(1);
    expect(events.filter((event) => event.type === 'timeout')).toHaveLength(timedOut);
    expect(adaptive.deadlines().duration).toBeGreaterThan(400);
    expect(await calls(30)).toEqual([]); // the downstream fits again

    // Once the fast calls and the timeouts have left the window, only the 400 ms ones remain: 400 + 50.
    await vi.advanceTimersByTimeAsync(30_000);
    await calls(30);
    await vi.advanceTimersByTimeAsync(30_000);
    await calls(30);
    expect(adaptive.deadlines().duration).toBeOneOf([450, 451]);
  });

  it('stays within min and max', async () => {
    const fast = downstreamBehindAdaptiveTimeout();
    fast.downstream.latency = 5;
    await fast.calls(30);
    expect(fast.adaptive.deadlines().duration).toBe(100);

    const slow = new AdaptiveDuration(1000, OPTIONS);
    for (let i = 0; i < 30; i++) slow.record(5000);
    expect(slow.deadlines().duration).toBe(2000);
  });

  it('adapts on Observable methods too, timing the first value', async () => {
    const adaptive = new AdaptiveDuration(1000, OPTIONS);
    const { call } = resilient(
      () => timer(100).pipe(map(() => 'ok')),
      (bus) => [new TimeoutPolicy('gateway', 1000, 'attempt', bus, adaptive)],
      'observable',
    );
    for (let i = 0; i < 25; i++) {
      const value = firstValueFrom(call());
      await vi.advanceTimersByTimeAsync(100);
      expect(await value).toBe('ok');
    }
    await vi.advanceTimersByTimeAsync(1000);
    expect(adaptive.deadlines().duration).toBeOneOf([150, 151]);
  });
});
