import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../lib/core/retry/backoff.js';
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
