import { deepFreeze } from '../validation/deep-freeze.js';
import { typeOf, type OptionsValidator } from '../validation/options.validator.js';
import { MAX_RATE_LIMIT } from '../validation/size-maxima.js';

/**
 * Whose tokens a call spends: `'global'` (one bucket), `'ip'` (per client address, controllers only; IPv6 grouped
 * by /64), or a function returning the key: called with the method's arguments on providers, with the
 * `ExecutionContext` on controllers (e.g. the authenticated user's id).
 */
export type RateLimitKey = 'global' | 'ip' | ((...args: never[]) => string);

/**
 * A value computed per request from the handler's `ExecutionContext` (handlers only). Typed here with a `never`
 * parameter because the core knows no Nest type; `@RateLimit` on handlers types it with `ExecutionContext`.
 */
export type PerRequest<T> = (context: never) => T;

/** Options of `@RateLimit`: a token bucket. */
export interface RateLimitOptions {
  /**
   * Tokens added per `interval`: the sustained rate. On handlers also a function of the `ExecutionContext`
   * returning it per request (e.g. by plan), which then also sizes the bucket unless `burst` is given. At most
   * 1,000,000,000. Default `100`.
   */
  limit: number | PerRequest<number>;
  /**
   * Milliseconds over which `limit` tokens are added, at most 2^31 - 1. On handlers also a function of the
   * `ExecutionContext`. Default `60_000`.
   */
  interval: number | PerRequest<number>;
  /** Bucket capacity: how many calls may come at once after a quiet spell, at most 1,000,000,000. Default: `limit`. */
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
  /**
   * Milliseconds a client that exceeded the limit stays refused (its bucket blocked), whatever refills meanwhile;
   * its bucket is full when the block ends. At most 2^31 - 1. Default `0`: no block, refused only until a token is
   * back.
   */
  blockDuration: number;
  /**
   * The refusal's message (the 429 body's `message`, the RPC/WebSocket payload's, GraphQL's error message): a string,
   * or on handlers a function of the `ExecutionContext`. Default: `Rate limit "<name>" exceeded: retry in <n> ms`.
   */
  message?: string | PerRequest<string>;
  /**
   * Handlers only: a predicate of the `ExecutionContext`; when it returns `true` the request spends nothing of this
   * limit (e.g. internal callers, health probes). Default: none.
   */
  skipIf?: PerRequest<boolean>;
  /**
   * Handlers with `key: 'ip'`: IPv6 clients are grouped by this prefix length (one subscriber usually holds a whole
   * /64, or /56 at some providers), an integer from 1 to 128. Default `64`.
   */
  ipv6Prefix: number;
}

/** Library defaults of `@RateLimit` (frozen). */
export const DEFAULT_RATE_LIMIT_OPTIONS: Readonly<RateLimitOptions> = deepFreeze({
  limit: 100,
  interval: 60_000,
  cost: 1,
  maxWait: 0,
  headers: true,
  legacyHeaders: false,
  blockDuration: 0,
  ipv6Prefix: 64,
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
  blockDuration: true,
  message: true,
  skipIf: true,
  ipv6Prefix: true,
} satisfies Record<keyof RateLimitOptions, true>);

/**
 * Throws a clear configuration error when an option is invalid or unknown; returns the options with numeric strings
 * (as `ConfigService` gives them) converted to numbers and `'true'`/`'false'` to booleans.
 */
export function validateRateLimitOptions(options: RateLimitOptions, validator: OptionsValidator): RateLimitOptions {
  validator.knownOptions(options, RATE_LIMIT_OPTION_NAMES);
  const normalized: RateLimitOptions = {
    ...options,
    limit: numberOrFunction(validator, 'limit', options.limit),
    interval:
      typeof options.interval === 'function'
        ? options.interval
        : validator.positiveDuration('interval', options.interval),
    cost: validator.numberAtLeast('cost', options.cost, Number.MIN_VALUE),
    maxWait: validator.nonNegativeDuration('maxWait', options.maxWait),
    headers: validator.boolean('headers', options.headers),
    legacyHeaders: validator.boolean('legacyHeaders', options.legacyHeaders),
    blockDuration: validator.nonNegativeDuration('blockDuration', options.blockDuration),
    ipv6Prefix: validator.integerAtLeast('ipv6Prefix', options.ipv6Prefix, 1),
  };
  if (normalized.ipv6Prefix > 128) {
    validator.fail('ipv6Prefix', options.ipv6Prefix, 'must be an integer from 1 to 128 (an IPv6 prefix length)');
  }
  if (normalized.legacyHeaders && !normalized.headers) {
    validator.fail(
      'legacyHeaders',
      options.legacyHeaders,
      'needs headers: true (headers: false sends no RateLimit header)',
    );
  }
  const { message } = options;
  if (message !== undefined && typeof message !== 'function' && (typeof message !== 'string' || message === '')) {
    validator.fail('message', message, `must be a non-empty string or a function, got ${typeOf(message)}`);
  }
  validator.optionalFunction('skipIf', options.skipIf);
  if (options.burst !== undefined)
    normalized.burst = validator.boundedNumber('burst', options.burst, 1, MAX_RATE_LIMIT);
  // With a per-request limit and no burst the capacity is only known per request: checked then (bucketRule).
  const capacity = normalized.burst ?? normalized.limit;
  if (typeof capacity === 'number' && normalized.cost > capacity) {
    validator.fail('cost', options.cost, `must not exceed the burst capacity (${capacity})`);
  }
  const { key } = options;
  if (key !== undefined && key !== 'global' && key !== 'ip' && typeof key !== 'function') {
    validator.fail('key', key, `must be "global", "ip" or a function, got ${typeOf(key)}`);
  }
  return normalized;
}

/** A number of at least the smallest positive value, or a function computing it per request. */
function numberOrFunction(validator: OptionsValidator, option: string, value: unknown): number | PerRequest<number> {
  if (typeof value === 'function') return value as PerRequest<number>;
  return validator.boundedNumber(option, value, Number.MIN_VALUE, MAX_RATE_LIMIT);
}

/** True when `limit` or `interval` is computed per request (handlers only). */
export function isPerRequestRate(options: Pick<RateLimitOptions, 'limit' | 'interval'>): boolean {
  return typeof options.limit === 'function' || typeof options.interval === 'function';
}
