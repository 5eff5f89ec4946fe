import { OptionsValidator } from '../validation/options-validator.js';

/** How the wait between attempts grows. */
export type BackoffKind = 'constant' | 'linear' | 'exponential';

/**
 * How the wait is randomised, so that many clients do not retry in lockstep:
 * `none` (exact), `full` (0..delay), `equal` (delay/2..delay), `decorrelated` (initialDelay..3 x previous delay).
 */
export type JitterKind = 'none' | 'full' | 'equal' | 'decorrelated';

/** An error class, as listed in `retryErrors` / `ignoreErrors`. */
export type ErrorClass = abstract new (...args: never[]) => unknown;

/** Options of `@Retry`. */
export interface RetryOptions {
  /** Total number of attempts, the first call included: `3` means one call and up to two retries. Default `3`. */
  maxAttempts: number;
  /** Growth of the wait between attempts. Default `'exponential'`. */
  backoff: BackoffKind;
  /** Wait before the first retry, in milliseconds. Default `100`. */
  initialDelay: number;
  /** Upper bound of any wait, `Retry-After` included, in milliseconds. Default `10_000`. */
  maxDelay: number;
  /** Growth factor of `exponential` backoff. Default `2`. */
  multiplier: number;
  /** Randomisation of the wait. Default `'full'`. */
  jitter: JitterKind;
  /**
   * Decides whether a failed attempt is retried. Default: {@link isTransientError} (everything but HTTP 4xx other
   * than 408 and 429). Giving a predicate replaces that default; nest-resilience's own rejections (open circuit,
   * full bulkhead, rate limit) are never retried whatever it answers.
   */
  retryIf?: (error: unknown, attempt: number) => boolean;
  /** Only errors that are instances of one of these classes are retried. Default: any. */
  retryErrors?: readonly ErrorClass[];
  /** Errors that are instances of one of these classes are never retried. Default: none. */
  ignoreErrors?: readonly ErrorClass[];
  /**
   * On controller handlers, also retry POST and PATCH requests (which are not idempotent).
   * Default `false`: only GET, HEAD, OPTIONS, PUT and DELETE are retried. Ignored on provider methods.
   */
  retryNonIdempotent?: boolean;
}

/** Library defaults of `@Retry`. */
export const DEFAULT_RETRY_OPTIONS: RetryOptions = {
  maxAttempts: 3,
  backoff: 'exponential',
  initialDelay: 100,
  maxDelay: 10_000,
  multiplier: 2,
  jitter: 'full',
};

/** Throws a clear configuration error when an option is invalid. */
export function validateRetryOptions(options: RetryOptions, validator: OptionsValidator): void {
  validator.integerAtLeast('maxAttempts', options.maxAttempts, 1);
  validator.oneOf('backoff', options.backoff, ['constant', 'linear', 'exponential']);
  validator.oneOf('jitter', options.jitter, ['none', 'full', 'equal', 'decorrelated']);
  validator.nonNegativeDuration('initialDelay', options.initialDelay);
  validator.nonNegativeDuration('maxDelay', options.maxDelay);
  validator.numberAtLeast('multiplier', options.multiplier, 1);
  if (options.maxDelay < options.initialDelay) {
    validator.fail('maxDelay', options.maxDelay, `must be >= initialDelay (${options.initialDelay})`);
  }
  validator.optionalFunction('retryIf', options.retryIf);
  validator.optionalErrorClasses('retryErrors', options.retryErrors);
  validator.optionalErrorClasses('ignoreErrors', options.ignoreErrors);
}
