import { describe, expect, it } from 'vitest';
import { type RetryOptions } from '../../lib/index.js';
import { backoffDelay, longestBackoff, longestRetryWaits } from '../../lib/core/retry/backoff.js';
import { DEFAULT_RETRY_OPTIONS } from '../../lib/core/retry/retry.options.js';

const options = { ...DEFAULT_RETRY_OPTIONS, initialDelay: 100, maxDelay: 1000 };

describe('backoffDelay', () => {
  it('full jitter draws between 0 and the capped exponential delay', () => {
    expect(backoffDelay({ ...options, jitter: 'full' }, 3, 0, () => 0)).toBe(0);
    expect(backoffDelay({ ...options, jitter: 'full' }, 3, 0, () => 0.5)).toBe(200);
    expect(backoffDelay({ ...options, jitter: 'full' }, 10, 0, () => 0.999)).toBeLessThan(1000);
  });

  it('equal jitter keeps at least half of the delay', () => {
    expect(backoffDelay({ ...options, jitter: 'equal' }, 2, 0, () => 0)).toBe(100);
    expect(backoffDelay({ ...options, jitter: 'equal' }, 2, 0, () => 1)).toBe(200);
  });

  it('decorrelated jitter draws between initialDelay and three times the previous delay, capped', () => {
    expect(backoffDelay({ ...options, jitter: 'decorrelated' }, 1, 0, () => 0.5)).toBe(100);
    expect(backoffDelay({ ...options, jitter: 'decorrelated' }, 2, 200, () => 0)).toBe(100);
    expect(backoffDelay({ ...options, jitter: 'decorrelated' }, 2, 200, () => 1)).toBe(600);
    expect(backoffDelay({ ...options, jitter: 'decorrelated' }, 3, 900, () => 1)).toBe(1000);
  });

  it('applies the multiplier of exponential backoff', () => {
    expect(backoffDelay({ ...options, jitter: 'none', multiplier: 3 }, 3, 0)).toBe(900);
  });
});

describe('the longest waits a retry can draw (what a derived @Idempotent lease counts)', () => {
  const retry = (overrides: Partial<RetryOptions>): RetryOptions => ({ ...DEFAULT_RETRY_OPTIONS, ...overrides });

  it('constant backoff waits its delay, however large maxDelay is', () => {
    const constant = retry({ maxAttempts: 3, backoff: 'constant', initialDelay: 100, jitter: 'none' });
    expect(constant.maxDelay).toBe(10_000);
    expect(longestBackoff(constant, 1)).toBe(100);
    expect(longestBackoff(constant, 2)).toBe(100);
    expect(longestRetryWaits(constant)).toBe(200);
    expect(longestRetryWaits({ ...constant, jitter: 'full' })).toBe(200);
  });

  it('linear backoff grows by its delay per failure, each wait at most maxDelay', () => {
    const linear = retry({ maxAttempts: 5, backoff: 'linear', initialDelay: 100, maxDelay: 250, jitter: 'equal' });
    expect([1, 2, 3, 4].map((failures) => longestBackoff(linear, failures))).toEqual([100, 200, 250, 250]);
    expect(longestRetryWaits(linear)).toBe(800);
  });

  it('exponential backoff sums min(maxDelay, delay x multiplier^n), whatever full or equal jitter draws', () => {
    const exponential = retry({ maxAttempts: 5, initialDelay: 100, multiplier: 3, maxDelay: 1000 });
    expect([1, 2, 3, 4].map((failures) => longestBackoff(exponential, failures))).toEqual([100, 300, 900, 1000]);
    expect(longestRetryWaits(exponential)).toBe(2300);
    for (const jitter of ['none', 'full', 'equal'] as const) {
      for (let failures = 1; failures <= 4; failures++) {
        const drawn = backoffDelay({ ...exponential, jitter }, failures, 0, () => 0.999999);
        expect(drawn).toBeLessThanOrEqual(longestBackoff({ ...exponential, jitter }, failures));
      }
    }
  });

  it('decorrelated jitter: each wait at most three times the previous bound, from the initial delay', () => {
    const decorrelated = retry({ maxAttempts: 4, initialDelay: 100, maxDelay: 1000, jitter: 'decorrelated' });
    expect([1, 2, 3].map((failures) => longestBackoff(decorrelated, failures))).toEqual([100, 300, 900]);
    expect(longestRetryWaits(decorrelated)).toBe(1300);
    // The worst draws (random -> 1) reach the bound and never pass it.
    let previous = 0;
    for (let failures = 1; failures <= 6; failures++) {
      previous = backoffDelay(decorrelated, failures, previous, () => 1);
      expect(previous).toBe(longestBackoff(decorrelated, failures));
    }
  });

  it('a single attempt waits nothing; a huge maxAttempts counts the far gaps at maxDelay, quickly', () => {
    expect(longestRetryWaits(retry({ maxAttempts: 1 }))).toBe(0);
    const many = retry({ maxAttempts: 1_000_001, backoff: 'linear', initialDelay: 1, maxDelay: 2_000_000 });
    const gaps = 1_000_000;
    // Summed one by one for the first 10,000 gaps (1 + 2 + ... + 10,000), the rest at maxDelay: an upper bound.
    expect(longestRetryWaits(many)).toBe((10_000 * 10_001) / 2 + (gaps - 10_000) * 2_000_000);
  });
});
