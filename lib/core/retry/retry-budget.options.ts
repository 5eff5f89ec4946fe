import { deepFreeze } from '../validation/deep-freeze.js';
import type { OptionsValidator } from '../validation/options.validator.js';

/**
 * Options of a named retry budget (module option `retryBudgets`), with Finagle's semantics: over the last `window`
 * milliseconds, the retries allowed are `minPerSecond x window in seconds` plus `ratio x` the calls made.
 */
export interface RetryBudgetOptions {
  /** Retries allowed per call made in the window: `0.2` lets retries add at most 20% to the load. Default `0.2`. */
  ratio: number;
  /** Retries allowed per second whatever the traffic, so that a quiet service still retries. Default `10`. */
  minPerSecond: number;
  /** Milliseconds over which calls and retries are counted (a sliding window). Default `10_000`. */
  window: number;
}

/** Library defaults of a retry budget (frozen): Finagle's (20%, 10 per second, 10 s). */
export const DEFAULT_RETRY_BUDGET_OPTIONS: Readonly<RetryBudgetOptions> = deepFreeze({
  ratio: 0.2,
  minPerSecond: 10,
  window: 10_000,
});

/** Every option name of a retry budget, for refusing unknown ones; the mapped type keeps it complete. */
const RETRY_BUDGET_OPTION_NAMES = Object.keys({
  ratio: true,
  minPerSecond: true,
  window: true,
} satisfies Record<keyof RetryBudgetOptions, true>);

/** The shortest window: the window is counted in ten slots, each at least 10 ms wide. */
const MIN_WINDOW_MS = 100;

/**
 * Throws a clear configuration error when an option is invalid or unknown, or when the budget would allow no retry
 * at all (`ratio` 0 and `minPerSecond` 0); returns the options with numeric strings converted to numbers.
 */
export function validateRetryBudgetOptions(
  options: RetryBudgetOptions,
  validator: OptionsValidator,
): RetryBudgetOptions {
  validator.knownOptions(options, RETRY_BUDGET_OPTION_NAMES);
  const normalized: RetryBudgetOptions = {
    ratio: validator.numberAtLeast('ratio', options.ratio, 0),
    minPerSecond: validator.numberAtLeast('minPerSecond', options.minPerSecond, 0),
    window: validator.positiveDuration('window', options.window),
  };
  if (normalized.window < MIN_WINDOW_MS) {
    validator.fail('window', options.window, `must be at least ${MIN_WINDOW_MS} ms`);
  }
  if (normalized.ratio === 0 && normalized.minPerSecond === 0) {
    validator.fail(
      'ratio',
      options.ratio,
      'and minPerSecond are both 0: the budget would allow no retry at all (remove @Retry, or set maxAttempts: 1)',
    );
  }
  return normalized;
}
