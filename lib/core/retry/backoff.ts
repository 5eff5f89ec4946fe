import type { RetryOptions } from './retry.options.js';

type BackoffOptions = Pick<RetryOptions, 'backoff' | 'initialDelay' | 'maxDelay' | 'multiplier' | 'jitter'>;

/**
 * The wait before the next attempt, after `failures` failed attempts (1 after the first failure).
 * `previousDelay` feeds decorrelated jitter; `random` returns a number in [0, 1).
 */
export function backoffDelay(
  options: BackoffOptions,
  failures: number,
  previousDelay: number,
  random: () => number = Math.random,
): number {
  const { initialDelay, maxDelay } = options;
  if (options.jitter === 'decorrelated') {
    // AWS "decorrelated jitter": each wait is drawn between the initial delay and three times the previous one.
    const upper = Math.max(initialDelay, previousDelay * 3);
    return Math.min(maxDelay, initialDelay + random() * (upper - initialDelay));
  }
  const base = Math.min(maxDelay, growth(options, failures));
  switch (options.jitter) {
    case 'full':
      return random() * base;
    case 'equal':
      return base / 2 + (random() * base) / 2;
    default:
      return base;
  }
}

function growth(options: BackoffOptions, failures: number): number {
  switch (options.backoff) {
    case 'constant':
      return options.initialDelay;
    case 'linear':
      return options.initialDelay * failures;
    default:
      return options.initialDelay * options.multiplier ** (failures - 1);
  }
}
