import { performance as nodePerformance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { monotonicClock, monotonicNow } from '../../lib/core/util/clock.js';

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
