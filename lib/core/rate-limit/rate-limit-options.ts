import type { OptionsValidator } from '../validation/options-validator.js';

/**
 * Whose tokens a call spends: `'global'` (one bucket), `'ip'` (per client address, controllers only; IPv6 grouped
 * by /64), or a function returning the key: called with the method's arguments on providers, with the
 * `ExecutionContext` on controllers (e.g. the authenticated user's id).
 */
export type RateLimitKey = 'global' | 'ip' | ((...args: never[]) => string);

/** Options of `@RateLimit`: a token bucket. */
export interface RateLimitOptions {
  /** Tokens added per `interval`: the sustained rate. Default `100`. */
  limit: number;
  /** Milliseconds over which `limit` tokens are added. Default `60_000`. */
  interval: number;
  /** Bucket capacity: how many calls may come at once after a quiet spell. Default: `limit`. */
  burst?: number;
  /** Tokens one call spends. Default `1`. */
  cost: number;
  /** Whose bucket a call uses. Default `'ip'` on controllers, `'global'` on providers. */
  key?: RateLimitKey;
  /**
   * Providers only: milliseconds a call may wait for its tokens before failing with `RateLimitExceededError`.
   * Default `0`: fail at once. (Controllers always answer 429 at once.)
   */
  maxWait: number;
  /** Controllers only: also send `X-RateLimit-Limit/Remaining/Reset`. Default `false`. */
  legacyHeaders: boolean;
}

/** Library defaults of `@RateLimit`. */
export const DEFAULT_RATE_LIMIT_OPTIONS: RateLimitOptions = {
  limit: 100,
  interval: 60_000,
  cost: 1,
  maxWait: 0,
  legacyHeaders: false,
};

/** Throws a clear configuration error when an option is invalid. */
export function validateRateLimitOptions(options: RateLimitOptions, validator: OptionsValidator): void {
  validator.numberAtLeast('limit', options.limit, Number.MIN_VALUE);
  validator.positiveDuration('interval', options.interval);
  if (options.burst !== undefined) validator.numberAtLeast('burst', options.burst, 1);
  validator.numberAtLeast('cost', options.cost, Number.MIN_VALUE);
  const capacity = options.burst ?? options.limit;
  if (options.cost > capacity) validator.fail('cost', options.cost, `must not exceed the burst capacity (${capacity})`);
  validator.nonNegativeDuration('maxWait', options.maxWait);
  const { key } = options;
  if (key !== undefined && key !== 'global' && key !== 'ip' && typeof key !== 'function') {
    validator.fail('key', key, 'must be "global", "ip" or a function');
  }
  if (typeof options.legacyHeaders !== 'boolean') validator.fail('legacyHeaders', options.legacyHeaders, 'must be a boolean');
}
