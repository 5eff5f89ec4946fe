import { performance as nodePerformance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { epochAt, epochNow, monotonicClock, monotonicNow } from '../../lib/core/util/clock.js';

describe('monotonicNow (the clock of the deadlines)', () => {
  afterEach(() => vi.useRealTimers());

  it('follows the fake clock while fake timers are installed, as users test timeouts', () => {
    vi.useFakeTimers();
    const start = monotonicNow();
    expect(start).toBe(performance.now());
    vi.advanceTimersByTime(1234);
    expect(monotonicNow() - start).toBe(1234);
  });

  it('reads the real clock again once they are gone', () => {
    vi.useFakeTimers();
    vi.advanceTimersByTime(10_000_000);
    vi.useRealTimers();
    const before = nodePerformance.now();
    const now = monotonicNow();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(nodePerformance.now());
  });

  it('monotonicClock keeps the clock a call started on, fake or real, for its end', () => {
    vi.useFakeTimers();
    const fake = monotonicClock();
    const start = fake.now();
    vi.advanceTimersByTime(250);
    vi.useRealTimers();
    // Real timers are back, yet the call that started on the fake clock ends on it.
    expect(fake.now() - start).toBe(250);
    expect(monotonicClock()).toBe(nodePerformance);
  });
});

describe('epochNow (the memory rate-limit store clock)', () => {
  afterEach(() => vi.useRealTimers());

  it('is epoch milliseconds from the monotonic clock while nothing is faked, and epochAt hands a reading on', () => {
    const before = Date.now();
    const now = epochNow();
    // performance.timeOrigin + performance.now(): fractional, within a clock tick of Date.now().
    expect(now).toBeGreaterThanOrEqual(before - 5);
    expect(now).toBeLessThanOrEqual(Date.now() + 5);
    const reading = monotonicNow();
    expect(epochAt(reading)).toBe(nodePerformance.timeOrigin + reading);
    expect(epochNow()).toBeGreaterThanOrEqual(epochAt(reading));
  });

  it('is the fake Date.now() while fake timers are installed, advanced and set as users do', () => {
    vi.useFakeTimers({ now: 1_000 });
    expect(epochNow()).toBe(1_000);
    vi.advanceTimersByTime(250);
    expect(epochNow()).toBe(1_250);
    // A reading of the fake monotonic clock is not turned into an epoch: the fake Date is read.
    expect(epochAt(monotonicNow())).toBe(1_250);
    vi.setSystemTime(50_000);
    expect(epochNow()).toBe(50_000);
  });

  it('follows a fake Date alone (toFake: ["Date"]), whose timers stay real', () => {
    vi.useFakeTimers({ toFake: ['Date'], now: 7 });
    expect(epochNow()).toBe(7);
    expect(epochAt(monotonicNow())).toBe(7);
    vi.setSystemTime(60_007);
    expect(epochNow()).toBe(60_007);
  });
});
