import { deepFreeze } from '../validation/deep-freeze.js';
import { OptionsValidator } from '../validation/options.validator.js';
import { MAX_ATTEMPTS } from '../validation/size-maxima.js';

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
  /**
   * Total number of attempts, the first call included: `3` means one call and up to two retries. At most 1,000.
   * Default `3`.
   */
  maxAttempts: number;
  /** Growth of the wait between attempts. Default `'exponential'`. */
  backoff: BackoffKind;
  /** Wait before the first retry, in milliseconds, at most 2^31 - 1 (Node's timer limit). Default `100`. */
  initialDelay: number;
  /**
   * Upper bound of any wait, `Retry-After` included, in milliseconds, at most 2^31 - 1 (Node's timer limit).
   * Default `10_000`.
   */
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
  /**
   * Decides whether an attempt that answered `value` is retried, as if it had failed (Polly's `ShouldHandle` on
   * results, cockatiel's `handleWhenResult`): `(value) => value.status === 'pending'`. When no attempt is left (or the
   * call was given up), the caller gets the last value, as Polly and cockatiel answer: the method did answer, and a
   * `@Fallback` or the caller's own check can tell it apart. On Observables every value is checked until one is
   * passed on. A throwing predicate fails the call with its error. Default: no value is retried.
   * (Written as a method so that a predicate typed for the method's own result, `(order: Order) => ...`, is accepted.)
   */
  retryOnResult?(value: unknown, attempt: number): boolean;
  /** Only errors that are instances of one of these classes are retried. Default: any. */
  retryErrors?: readonly ErrorClass[];
  /** Errors that are instances of one of these classes are never retried. Default: none. */
  ignoreErrors?: readonly ErrorClass[];
  /**
   * On controller handlers, also retry POST and PATCH requests (which are not idempotent).
   * Default `false`: only GET, HEAD, OPTIONS, PUT and DELETE are retried. Ignored on provider methods.
   */
  retryNonIdempotent?: boolean;
  /**
   * Name of a retry budget in the module option `retryBudgets`, shared by every `@Retry` naming it: a retry starts
   * only while the budget has room, otherwise the call fails at once with its last error (marked
   * `retryBudgetExhausted`). Default: no budget.
   */
  budget?: string;
}

/** Library defaults of `@Retry` (frozen). */
export const DEFAULT_RETRY_OPTIONS: Readonly<RetryOptions> = deepFreeze({
  maxAttempts: 3,
  backoff: 'exponential',
  initialDelay: 100,
  maxDelay: 10_000,
  multiplier: 2,
  jitter: 'full',
});

/** Every option name of `@Retry`, for refusing unknown ones; the mapped type keeps it complete. */
const RETRY_OPTION_NAMES = Object.keys({
  maxAttempts: true,
  backoff: true,
  initialDelay: true,
  maxDelay: true,
  multiplier: true,
  jitter: true,
  retryIf: true,
  retryOnResult: true,
  retryErrors: true,
  ignoreErrors: true,
  retryNonIdempotent: true,
  budget: true,
} satisfies Record<keyof RetryOptions, true>);

/**
 * Throws a clear configuration error when an option is invalid or unknown; returns the options with numeric strings
 * (as `ConfigService` gives them) converted to numbers and `'true'`/`'false'` to booleans.
 */
export function validateRetryOptions(options: RetryOptions, validator: OptionsValidator): RetryOptions {
  validator.knownOptions(options, RETRY_OPTION_NAMES);
  const normalized: RetryOptions = {
    ...options,
    maxAttempts: validator.boundedInteger('maxAttempts', options.maxAttempts, 1, MAX_ATTEMPTS),
    backoff: validator.oneOf('backoff', options.backoff, ['constant', 'linear', 'exponential']),
    jitter: validator.oneOf('jitter', options.jitter, ['none', 'full', 'equal', 'decorrelated']),
    initialDelay: validator.nonNegativeDuration('initialDelay', options.initialDelay),
    maxDelay: validator.nonNegativeDuration('maxDelay', options.maxDelay),
    multiplier: validator.numberAtLeast('multiplier', options.multiplier, 1),
  };
  if (normalized.maxDelay < normalized.initialDelay) {
    validator.fail('maxDelay', options.maxDelay, `must be >= initialDelay (${normalized.initialDelay})`);
  }
  validator.optionalFunction('retryIf', options.retryIf);
  validator.optionalFunction('retryOnResult', (options as { retryOnResult?: unknown }).retryOnResult);
  validator.optionalErrorClasses('retryErrors', options.retryErrors);
  validator.optionalErrorClasses('ignoreErrors', options.ignoreErrors);
  if (options.retryNonIdempotent !== undefined) {
    normalized.retryNonIdempotent = validator.boolean('retryNonIdempotent', options.retryNonIdempotent);
  }
  if (options.budget !== undefined && (typeof options.budget !== 'string' || options.budget.trim() === '')) {
    validator.fail('budget', options.budget, `must name a retry budget of the module option "retryBudgets"`);
  }
  return normalized;
}
