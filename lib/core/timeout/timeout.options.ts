import { deepFreeze } from '../validation/deep-freeze.js';
import { OptionsValidator } from '../validation/options.validator.js';

/** Options of `@Timeout`. */
export interface TimeoutOptions {
  /**
   * Milliseconds one attempt may take before it is abandoned (and its signal aborted). At most 2^31 - 1 (Node's
   * timer limit). Default `10_000`.
   */
  duration: number;
  /**
   * Milliseconds the whole call may take across all retry attempts and backoff waits. When it fires, the running
   * attempt is aborted and no further attempt starts. At most 2^31 - 1. Default: none.
   */
  total?: number;
}

/** Library defaults of `@Timeout` (frozen). */
export const DEFAULT_TIMEOUT_OPTIONS: Readonly<TimeoutOptions> = deepFreeze({ duration: 10_000 });

/** Every option name of `@Timeout`, for refusing unknown ones; the mapped type keeps it complete. */
const TIMEOUT_OPTION_NAMES = Object.keys({ duration: true, total: true } satisfies Record<keyof TimeoutOptions, true>);

/**
 * Throws a clear configuration error when an option is invalid or unknown; returns the options with numeric strings
 * (as `ConfigService` gives them) converted to numbers.
 */
export function validateTimeoutOptions(options: TimeoutOptions, validator: OptionsValidator): TimeoutOptions {
  validator.knownOptions(options, TIMEOUT_OPTION_NAMES);
  const normalized: TimeoutOptions = { ...options, duration: validator.positiveDuration('duration', options.duration) };
  if (options.total !== undefined) normalized.total = validator.positiveDuration('total', options.total);
  return normalized;
}
