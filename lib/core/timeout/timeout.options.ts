import { deepFreeze } from '../validation/deep-freeze.js';
import { OptionsValidator, typeOf } from '../validation/options.validator.js';
import { withoutUndefined } from '../validation/without-undefined.js';
import { MAX_COUNT } from '../validation/size-maxima.js';

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
  /**
   * Follows the downstream: the attempt timeout becomes the chosen percentile of recent successful attempts plus a
   * margin, within `min` and `max`, once `minSamples` successes are known (until then, `duration`). Default: none.
   * @example `@Timeout({ duration: 2000, adaptive: { percentile: 99, margin: 50, min: 100, max: 2000 } })`
   */
  adaptive?: AdaptiveTimeoutOptions;
}

/** Options of an adaptive `@Timeout`. */
export interface AdaptiveTimeoutOptions {
  /** Percentile of recent successful attempt durations to follow, above 0 and at most 100. Default `99`. */
  percentile?: number;
  /** Milliseconds added to the percentile. Default `0`. */
  margin?: number;
  /** The shortest timeout it may choose, in ms. Default `1`. */
  min?: number;
  /** The longest timeout it may choose, in ms. Default: the `duration`, so it never waits longer than configured. */
  max?: number;
  /** Successful attempts needed in the window before it adapts, at most 1,000,000. Default `20`. */
  minSamples?: number;
  /** Milliseconds of history it follows (the last half to whole window). Default `60_000`. */
  window?: number;
}

/** Adaptive timeout options with every default applied, as the policy uses them. */
export type ResolvedAdaptiveTimeoutOptions = Required<AdaptiveTimeoutOptions>;

/** Library defaults of the adaptive timeout (frozen); `max` defaults to the timeout's `duration`. */
export const DEFAULT_ADAPTIVE_TIMEOUT_OPTIONS: Readonly<Omit<ResolvedAdaptiveTimeoutOptions, 'max'>> = deepFreeze({
  percentile: 99,
  margin: 0,
  min: 1,
  minSamples: 20,
  window: 60_000,
});

const ADAPTIVE_OPTION_NAMES = Object.keys({
  percentile: true,
  margin: true,
  min: true,
  max: true,
  minSamples: true,
  window: true,
} satisfies Record<keyof AdaptiveTimeoutOptions, true>);

/** Library defaults of `@Timeout` (frozen). */
export const DEFAULT_TIMEOUT_OPTIONS: Readonly<TimeoutOptions> = deepFreeze({ duration: 10_000 });

/** Every option name of `@Timeout`, for refusing unknown ones; the mapped type keeps it complete. */
const TIMEOUT_OPTION_NAMES = Object.keys({
  duration: true,
  total: true,
  adaptive: true,
} satisfies Record<keyof TimeoutOptions, true>);

/**
 * Throws a clear configuration error when an option is invalid or unknown; returns the options with numeric strings
 * (as `ConfigService` gives them) converted to numbers.
 */
export function validateTimeoutOptions(options: TimeoutOptions, validator: OptionsValidator): TimeoutOptions {
  validator.knownOptions(options, TIMEOUT_OPTION_NAMES);
  const normalized: TimeoutOptions = { ...options, duration: validator.positiveDuration('duration', options.duration) };
  if (options.total !== undefined) normalized.total = validator.positiveDuration('total', options.total);
  if (options.adaptive !== undefined) normalized.adaptive = validateAdaptive(options.adaptive, normalized, validator);
  return normalized;
}

/** The adaptive options with their defaults applied; `max` defaults to the (normalized) `duration`. */
function validateAdaptive(
  adaptive: unknown,
  { duration }: TimeoutOptions,
  validator: OptionsValidator,
): ResolvedAdaptiveTimeoutOptions {
  if (typeof adaptive !== 'object' || adaptive === null || Array.isArray(adaptive)) {
    return validator.fail(
      'adaptive',
      adaptive,
      'must be an object such as { percentile: 99, margin: 50, min: 100, max: 2000 }, got ' + typeOf(adaptive),
    );
  }
  const given = withoutUndefined(adaptive as AdaptiveTimeoutOptions);
  // Named as written in the decorator: "adaptive.percentil", with did-you-mean among "adaptive.*".
  validator.knownOptions(
    Object.fromEntries(Object.keys(given).map((key) => [`adaptive.${key}`, true])),
    ADAPTIVE_OPTION_NAMES.map((key) => `adaptive.${key}`),
  );
  const merged = { ...DEFAULT_ADAPTIVE_TIMEOUT_OPTIONS, max: duration, ...given };
  const percentile = validator.number(
    'adaptive.percentile',
    merged.percentile,
    'must be a number above 0, at most 100',
  );
  if (!(percentile > 0 && percentile <= 100)) {
    validator.fail('adaptive.percentile', merged.percentile, 'must be a number above 0, at most 100');
  }
  const resolved: ResolvedAdaptiveTimeoutOptions = {
    percentile,
    margin: validator.nonNegativeDuration('adaptive.margin', merged.margin),
    min: validator.positiveDuration('adaptive.min', merged.min),
    max: validator.positiveDuration('adaptive.max', merged.max),
    minSamples: validator.boundedInteger('adaptive.minSamples', merged.minSamples, 1, MAX_COUNT),
    window: validator.positiveDuration('adaptive.window', merged.window),
  };
  if (resolved.min > resolved.max) {
    validator.fail('adaptive.min', merged.min, `must be at most adaptive.max (${resolved.max} ms)`);
  }
  return resolved;
}
