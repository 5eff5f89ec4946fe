import { deepFreeze } from '../validation/deep-freeze.js';
import { typeOf, type OptionsValidator } from '../validation/options.validator.js';

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
  /** Milliseconds over which `limit` tokens are added, at most 2^31 - 1. Default `60_000`. */
  interval: number;
  /** Bucket capacity: how many calls may come at once after a quiet spell. Default: `limit`. */
  burst?: number;
  /** Tokens one call spends. Default `1`. */
  cost: number;
  /** Whose bucket a call uses. Default `'ip'` on controllers, `'global'` on providers. */
  key?: RateLimitKey;
  /**
   * Providers only: milliseconds a call may wait for its tokens before failing with `RateLimitExceededError`, at
   * most 2^31 - 1 (Node's timer limit). Default `0`: fail at once. (Controllers always answer 429 at once.)
   */
  maxWait: number;
  /**
   * Handlers, over HTTP: send `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` on every answer.
   * `false` sends none (a refusal still carries `Retry-After`), like @nestjs/throttler's `setHeaders: false`: for
   * APIs that do not publish their limits, and the cheapest answer. Default `true`.
   */
  headers: boolean;
  /** Handlers, over HTTP: also send `X-RateLimit-Limit/Remaining/Reset` (needs `headers`). Default `false`. */
  legacyHeaders: boolean;
}

/** Library defaults of `@RateLimit` (frozen). */
export const DEFAULT_RATE_LIMIT_OPTIONS: Readonly<RateLimitOptions> = deepFreeze({
  limit: 100,
  interval: 60_000,
  cost: 1,
  maxWait: 0,
  headers: true,
  legacyHeaders: false,
});

/** Every option name of `@RateLimit`, for refusing unknown ones; the mapped type keeps it complete. */
const RATE_LIMIT_OPTION_NAMES = Object.keys({
  limit: true,
  interval: true,
  burst: true,
  cost: true,
  key: true,
  maxWait: true,
  headers: true,
  legacyHeaders: true,
} satisfies Record<keyof RateLimitOptions, true>);

/**
 * Throws a clear configuration error when an option is invalid or unknown; returns the options with numeric strings
 * (as `ConfigService` gives them) converted to numbers and `'true'`/`'false'` to booleans.
 */
export function validateRateLimitOptions(options: RateLimitOptions, validator: OptionsValidator): RateLimitOptions {
  validator.knownOptions(options, RATE_LIMIT_OPTION_NAMES);
  const normalized: RateLimitOptions = {
    ...options,
    limit: validator.numberAtLeast('limit', options.limit, Number.MIN_VALUE),
    interval: validator.positiveDuration('interval', options.interval),
    cost: validator.numberAtLeast('cost', options.cost, Number.MIN_VALUE),
    maxWait: validator.nonNegativeDuration('maxWait', options.maxWait),
    headers: validator.boolean('headers', options.headers),
    legacyHeaders: validator.boolean('legacyHeaders', options.legacyHeaders),
  };
  if (normalized.legacyHeaders && !normalized.headers) {
    validator.fail(
      'legacyHeaders',
      options.legacyHeaders,
      'needs headers: true (headers: false sends no RateLimit header)',
    );
  }
  if (options.burst !== undefined) normalized.burst = validator.numberAtLeast('burst', options.burst, 1);
  const capacity = normalized.burst ?? normalized.limit;
  if (normalized.cost > capacity) {
    validator.fail('cost', options.cost, `must not exceed the burst capacity (${capacity})`);
  }
  const { key } = options;
  if (key !== undefined && key !== 'global' && key !== 'ip' && typeof key !== 'function') {
    validator.fail('key', key, `must be "global", "ip" or a function, got ${typeOf(key)}`);
  }
  return normalized;
}
