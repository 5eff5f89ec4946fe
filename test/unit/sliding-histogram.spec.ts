import { describe, expect, it } from 'vitest';
import { SlidingHistogram } from '../../lib/core/metrics/sliding-histogram.js';

/** Percentiles to the millisecond: HDR histograms answer with 3 significant figures (100 ms may read 100.031). */
function rounded(histogram: SlidingHistogram): {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
} {
  const { count, p50, p95, p99 } = histogram.percentiles();
  const round = (value: number | null) => (value === null ? null : Math.round(value));
  return { count, p50: round(p50), p95: round(p95), p99: round(p99) };
}

describe('SlidingHistogram', () => {
  it('reads p50, p95 and p99 of the recorded durations, in milliseconds', () => {
    const histogram = new SlidingHistogram(60_000, () => 0);
    for (let ms = 1; ms <= 100; ms++) histogram.record(ms);
    expect(rounded(histogram)).toMatchObject({
      count: 100,
      p50: 50,
      p95: 95,
      p99: 99,
    });
  });

  it('keeps sub-millisecond durations to the microsecond', () => {
    const histogram = new SlidingHistogram(60_000, () => 0);
    histogram.record(0.25);
    expect(histogram.percentile(50)).toBe(0.25);
  });

  it('forgets durations older than the window, half a window at a time', () => {
    let now = 0;
    const histogram = new SlidingHistogram(60_000, () => now);
    for (let i = 0; i < 10; i++) histogram.record(100);
    now = 30_000; // a half later: the first half still counts
    for (let i = 0; i < 10; i++) histogram.record(400);
    expect(rounded(histogram)).toMatchObject({
      count: 20,
      p50: 100,
      p99: 400,
    });
    now = 60_000; // the first half has left the window
    expect(rounded(histogram)).toMatchObject({
      count: 10,
      p50: 400,
      p99: 400,
    });
    now = 200_000; // idle for longer than the window: empty, no percentiles (not 0 ms)
    expect(rounded(histogram)).toEqual({ count: 0, p50: null, p95: null, p99: null });
  });
});
