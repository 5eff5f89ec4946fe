import { deepFreeze } from '../validation/deep-freeze.js';
import type { OptionsValidator } from '../validation/options.validator.js';
import { MAX_HEDGES } from '../validation/size-maxima.js';

/** When a hedge starts: a fixed delay in ms, or a percentile of the method's recent latencies. */
export type HedgeDelay = number | { readonly percentile: number; readonly fallback?: number };

/** Options of `@Hedge`. */
export interface HedgeOptions {
  /** Extra attempts that may run beside the first, at most 10. Default `1`. */
  maxHedges: number;
  /**
   * Milliseconds without an answer before the next attempt starts; or `{ percentile: 95, fallback: 100 }`: the
   * method's recent 95th percentile (its own sliding latency histogram, the last 30 to 60 s, once it holds at least
   * 20 calls; or the module option `latencySource` when given), `fallback` ms (default 100) until then.
   * Default `100`.
   */
  delay: HedgeDelay;
  /**
   * Decides whether an attempt that answered `value` counts as failed, like an error: another attempt starts at once
   * (if a hedge is left) and the race goes on. When every attempt failed or answered a matching value, the call
   * answers the first matching value that arrived (the method did answer; an error would invent a failure), else the
   * first attempt's error. On Observables an attempt's first value is checked. A throwing predicate fails that attempt
   * with its error. Default: every value wins.
   * (Written as a method so that a predicate typed for the method's own result is accepted.)
   */
  hedgeOnResult?(value: unknown): boolean;
  /** On controller handlers, also hedge POST, PATCH and `@All()` routes (not idempotent). Default `false`. */
  hedgeNonIdempotent?: boolean;
}

/** Library defaults of `@Hedge` (frozen). */
export const DEFAULT_HEDGE_OPTIONS: Readonly<HedgeOptions> = deepFreeze({ maxHedges: 1, delay: 100 });

const HEDGE_OPTION_NAMES = Object.keys({
  maxHedges: true,
  delay: true,
  hedgeOnResult: true,
  hedgeNonIdempotent: true,
} satisfies Record<keyof HedgeOptions, true>);

/** Throws a clear configuration error when an option is invalid or unknown; returns the normalized options. */
export function validateHedgeOptions(options: HedgeOptions, validator: OptionsValidator): HedgeOptions {
  validator.knownOptions(options, HEDGE_OPTION_NAMES);
  const normalized: HedgeOptions = {
    ...options,
    maxHedges: validator.boundedInteger('maxHedges', options.maxHedges, 1, MAX_HEDGES),
    delay: hedgeDelay(options.delay, validator),
  };
  validator.optionalFunction('hedgeOnResult', (options as { hedgeOnResult?: unknown }).hedgeOnResult);
  if (options.hedgeNonIdempotent !== undefined) {
    normalized.hedgeNonIdempotent = validator.boolean('hedgeNonIdempotent', options.hedgeNonIdempotent);
  }
  return normalized;
}

function hedgeDelay(delay: unknown, validator: OptionsValidator): HedgeDelay {
  if (typeof delay !== 'object' || delay === null) return validator.nonNegativeDuration('delay', delay);
  const { percentile, fallback, ...unknown } = delay as Record<string, unknown>;
  validator.knownOptions(unknown, ['percentile', 'fallback']);
  const normalized = { percentile: validator.numberAtLeast('delay.percentile', percentile, 1), fallback: 100 };
  if (normalized.percentile >= 100) validator.fail('delay.percentile', percentile, 'must be below 100');
  if (fallback !== undefined) normalized.fallback = validator.nonNegativeDuration('delay.fallback', fallback);
  return normalized;
}
