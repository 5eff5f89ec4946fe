import { performance as nodePerformance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { monotonicNow } from '../../lib/core/util/clock.js';

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
});
