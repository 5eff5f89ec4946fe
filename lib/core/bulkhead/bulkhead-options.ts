import type { OptionsValidator } from '../validation/options-validator.js';

/** Picks the compartment of a call from the method's arguments (a controller handler's: its resolved parameters). */
export type PartitionKey = (...args: never[]) => string;

/** Options of `@Bulkhead`. */
export interface BulkheadOptions {
  /** Calls that may run at once (per partition). Default `10`. */
  maxConcurrent: number;
  /** Calls that may wait for a slot (per partition); beyond that, calls are rejected at once. Default `0`. */
  maxQueue: number;
  /** Milliseconds a queued call may wait for a slot before it is rejected. Default: no limit of its own. */
  maxWait?: number;
  /**
   * Splits the bulkhead into independent compartments, e.g. per tenant or per downstream host. Called with the
   * method's arguments (on a controller handler, its parameters, such as `@Param('tenant')`). Default: one
   * compartment.
   */
  key?: PartitionKey;
}

/** Library defaults of `@Bulkhead`. */
export const DEFAULT_BULKHEAD_OPTIONS: BulkheadOptions = { maxConcurrent: 10, maxQueue: 0 };

/** Throws a clear configuration error when an option is invalid. */
export function validateBulkheadOptions(options: BulkheadOptions, validator: OptionsValidator): void {
  validator.integerAtLeast('maxConcurrent', options.maxConcurrent, 1);
  validator.integerAtLeast('maxQueue', options.maxQueue, 0);
  if (options.maxWait !== undefined) validator.positiveDuration('maxWait', options.maxWait);
  validator.optionalFunction('key', options.key);
}
