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

/**
 * The longest wait {@link backoffDelay} can return after `failures` failed attempts, whatever the jitter draws:
 * `constant` its `initialDelay`, `linear` `initialDelay` x `failures`, `exponential` `initialDelay` x
 * `multiplier`^(`failures` - 1), each at most `maxDelay` (`full` and `equal` jitter only shorten it); `decorrelated`
 * at most three times the previous wait's bound, so `initialDelay` x 3^(`failures` - 1), at most `maxDelay`.
 */
export function longestBackoff(options: BackoffOptions, failures: number): number {
  const { initialDelay, maxDelay } = options;
  const grown = options.jitter === 'decorrelated' ? initialDelay * 3 ** (failures - 1) : growth(options, failures);
  return Math.min(maxDelay, grown);
}

/** Gaps summed one by one before the rest are counted at `maxDelay` (an upper bound): bootstrap stays quick. */
const SUMMED_GAPS = 10_000;

/**
 * The longest the waits between `maxAttempts` attempts can add up to: {@link longestBackoff} summed over the
 * `maxAttempts` - 1 gaps. (A `Retry-After` longer than that is a separate matter: see `RetryPolicy`.)
 */
export function longestRetryWaits(options: BackoffOptions & Pick<RetryOptions, 'maxAttempts'>): number {
  const gaps = options.maxAttempts - 1;
  if (options.backoff === 'constant' && options.jitter !== 'decorrelated') {
    return gaps * Math.min(options.maxDelay, options.initialDelay);
  }
  let total = 0;
  const summed = Math.min(gaps, SUMMED_GAPS);
  for (let failures = 1; failures <= summed; failures++) total += longestBackoff(options, failures);
  return total + (gaps - summed) * options.maxDelay;
}
