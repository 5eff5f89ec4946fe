import { OptionsValidator } from '../validation/options-validator.js';

/** Options of `@Timeout`. */
export interface TimeoutOptions {
  /** Milliseconds one attempt may take before it is abandoned (and its signal aborted). Default `10_000`. */
  duration: number;
  /**
   * Milliseconds the whole call may take across all retry attempts and backoff waits. When it fires, the running
   * attempt is aborted and no further attempt starts. Default: none.
   */
  total?: number;
}

/** Library defaults of `@Timeout`. */
export const DEFAULT_TIMEOUT_OPTIONS: TimeoutOptions = { duration: 10_000 };

/** Throws a clear configuration error when an option is invalid. */
export function validateTimeoutOptions(options: TimeoutOptions, validator: OptionsValidator): void {
  validator.positiveDuration('duration', options.duration);
  if (options.total !== undefined) validator.positiveDuration('total', options.total);
}
