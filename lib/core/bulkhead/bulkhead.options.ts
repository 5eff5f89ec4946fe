import { deepFreeze } from '../validation/deep-freeze.js';
import type { OptionsValidator } from '../validation/options.validator.js';

/** Picks the compartment of a call from the method's arguments (a controller handler's: its resolved parameters). */
export type PartitionKey = (...args: never[]) => string;

/** Options of `@Bulkhead`. */
export interface BulkheadOptions {
  /** Calls that may run at once (per partition). Default `10`. */
  maxConcurrent: number;
  /** Calls that may wait for a slot (per partition); beyond that, calls are rejected at once. Default `0`. */
  maxQueue: number;
  /**
   * Milliseconds a queued call may wait for a slot before it is rejected. At most 2^31 - 1 (Node's timer limit).
   * Default: no limit of its own.
   */
  maxWait?: number;
  /**
   * Splits the bulkhead into independent compartments, e.g. per tenant or per downstream host. Called with the
   * method's arguments (on a controller handler, its parameters, such as `@Param('tenant')`). Default: one
   * compartment.
   */
  key?: PartitionKey;
}

/** Library defaults of `@Bulkhead` (frozen). */
export const DEFAULT_BULKHEAD_OPTIONS: Readonly<BulkheadOptions> = deepFreeze({ maxConcurrent: 10, maxQueue: 0 });

/** Every option name of `@Bulkhead`, for refusing unknown ones; the mapped type keeps it complete. */
const BULKHEAD_OPTION_NAMES = Object.keys({
  maxConcurrent: true,
  maxQueue: true,
  maxWait: true,
  key: true,
} satisfies Record<keyof BulkheadOptions, true>);

/**
 * Throws a clear configuration error when an option is invalid or unknown; returns the options with numeric strings
 * (as `ConfigService` gives them) converted to numbers.
 */
export function validateBulkheadOptions(options: BulkheadOptions, validator: OptionsValidator): BulkheadOptions {
  validator.knownOptions(options, BULKHEAD_OPTION_NAMES);
  const normalized: BulkheadOptions = {
    ...options,
    maxConcurrent: validator.integerAtLeast('maxConcurrent', options.maxConcurrent, 1),
    maxQueue: validator.integerAtLeast('maxQueue', options.maxQueue, 0),
  };
  if (options.maxWait !== undefined) normalized.maxWait = validator.positiveDuration('maxWait', options.maxWait);
  validator.optionalFunction('key', options.key);
  return normalized;
}
