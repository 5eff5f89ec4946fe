import { deepFreeze } from '../validation/deep-freeze.js';
import type { OptionsValidator } from '../validation/options.validator.js';
import { MAX_CONCURRENT, MAX_QUEUE } from '../validation/size-maxima.js';

/** Picks the compartment of a call from the method's arguments (a controller handler's: its resolved parameters). */
export type PartitionKey = (...args: never[]) => string;

/** An adaptive concurrency limit's algorithm (Netflix concurrency-limits). */
export type AdaptiveLimitAlgorithm = 'gradient2' | 'vegas' | 'aimd';

/**
 * `@Bulkhead({ adaptive })`: the limit follows measured latency instead of a fixed `maxConcurrent`. Defaults are
 * Netflix's per algorithm: gradient2 and aimd `initialLimit` 20, `minLimit` 20, `maxLimit` 200; vegas 20, 1, 1000.
 * Each limit is at most 100,000.
 */
export interface AdaptiveLimitOptions {
  /** `gradient2` (latency against its long-term average), `vegas` (estimated queue), `aimd` (back off on drops). */
  algorithm: AdaptiveLimitAlgorithm;
  /** The limit to start from. */
  initialLimit?: number;
  /** The limit never goes below this. */
  minLimit?: number;
  /** The limit never goes above this. */
  maxLimit?: number;
}

/** Options of `@Bulkhead`. */
export interface BulkheadOptions {
  /** Calls that may run at once (per partition), at most 100,000. Default `10`. */
  maxConcurrent: number;
  /**
   * Calls that may wait for a slot (per partition), at most 100,000; beyond that, calls are rejected at once.
   * Default `0`.
   */
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
  /**
   * Replaces `maxConcurrent` by a limit that follows measured latency (calls over it are rejected at once, 503 with
   * `Retry-After` on handlers); no queue and no `key`. Default: a fixed limit.
   */
  adaptive?: AdaptiveLimitOptions;
}

/** Library defaults of `@Bulkhead` (frozen). */
export const DEFAULT_BULKHEAD_OPTIONS: Readonly<BulkheadOptions> = deepFreeze({ maxConcurrent: 10, maxQueue: 0 });

/** Every option name of `@Bulkhead`, for refusing unknown ones; the mapped type keeps it complete. */
const BULKHEAD_OPTION_NAMES = Object.keys({
  maxConcurrent: true,
  maxQueue: true,
  maxWait: true,
  key: true,
  adaptive: true,
} satisfies Record<keyof BulkheadOptions, true>);

/**
 * Throws a clear configuration error when an option is invalid or unknown; returns the options with numeric strings
 * (as `ConfigService` gives them) converted to numbers.
 */
export function validateBulkheadOptions(options: BulkheadOptions, validator: OptionsValidator): BulkheadOptions {
  validator.knownOptions(options, BULKHEAD_OPTION_NAMES);
  const normalized: BulkheadOptions = {
    ...options,
    maxConcurrent: validator.boundedInteger('maxConcurrent', options.maxConcurrent, 1, MAX_CONCURRENT),
    maxQueue: validator.boundedInteger('maxQueue', options.maxQueue, 0, MAX_QUEUE),
  };
  if (options.maxWait !== undefined) normalized.maxWait = validator.positiveDuration('maxWait', options.maxWait);
  validator.optionalFunction('key', options.key);
  if (options.adaptive !== undefined) normalized.adaptive = validateAdaptive(options, validator);
  return normalized;
}

const ADAPTIVE_DEFAULTS: Record<AdaptiveLimitAlgorithm, Required<Omit<AdaptiveLimitOptions, 'algorithm'>>> = {
  gradient2: { initialLimit: 20, minLimit: 20, maxLimit: 200 },
  vegas: { initialLimit: 20, minLimit: 1, maxLimit: 1000 },
  aimd: { initialLimit: 20, minLimit: 20, maxLimit: 200 },
};

/** The adaptive options with the algorithm's defaults filled in; refuses what an adaptive limit cannot do. */
function validateAdaptive(options: BulkheadOptions, validator: OptionsValidator): Required<AdaptiveLimitOptions> {
  const adaptive = options.adaptive as unknown;
  if (typeof adaptive !== 'object' || adaptive === null) {
    return validator.fail('adaptive', adaptive, "must be an object, e.g. { algorithm: 'gradient2' }");
  }
  const given = adaptive as Partial<AdaptiveLimitOptions>;
  validator.knownOptions(given, ['algorithm', 'initialLimit', 'minLimit', 'maxLimit']);
  const algorithm = validator.oneOf('adaptive.algorithm', given.algorithm, ['gradient2', 'vegas', 'aimd']);
  const defaults = ADAPTIVE_DEFAULTS[algorithm];
  const limit = (option: string, value: unknown, min: number) =>
    validator.boundedInteger(`adaptive.${option}`, value, min, MAX_CONCURRENT);
  const minLimit = limit('minLimit', given.minLimit ?? defaults.minLimit, 1);
  const maxLimit = limit('maxLimit', given.maxLimit ?? defaults.maxLimit, minLimit);
  const initial = limit('initialLimit', given.initialLimit ?? defaults.initialLimit, 1);
  if (initial < minLimit || initial > maxLimit) {
    validator.fail(
      'adaptive.initialLimit',
      initial,
      `must be between minLimit (${minLimit}) and maxLimit (${maxLimit})`,
    );
  }
  if (options.key !== undefined) validator.fail('key', options.key, 'cannot be combined with adaptive (one limit)');
  if (options.maxQueue > 0) validator.fail('maxQueue', options.maxQueue, 'must be 0 with adaptive: it rejects at once');
  return { algorithm, initialLimit: initial, minLimit, maxLimit };
}
