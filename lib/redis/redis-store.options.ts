import { OptionsValidator, typeOf } from '../core/validation/options.validator.js';
import { withoutUndefined } from '../core/validation/without-undefined.js';
import { MAX_REPLICAS } from '../core/validation/size-maxima.js';
import type { Cluster, Redis, RedisOptions } from 'ioredis';

/** How a rate limit decides while Redis cannot answer. */
export type StoreErrorMode = 'allow' | 'deny' | 'local';

/** Options of {@link RedisStore}. Give `client` or `url`, not both. */
export interface RedisStoreOptions {
  /** An ioredis client (`Redis` or `Cluster`) owned by the application: the store never closes it. */
  client?: Redis | Cluster;
  /**
   * A Redis URL (`redis://host:6379/0`): the store creates its own client, with no offline queue and the command
   * timeout below. It is closed when the last application using the store shuts down, and opened again when another
   * application built from the same module starts. With either client, the checks sent in one tick share one socket
   * write (a lone check is sent at once).
   */
  url?: string;
  /** Extra ioredis options for the client created from `url`. */
  redisOptions?: RedisOptions;
  /** Prefix of every key the store writes. Default `'nest-resilience:'`. */
  prefix?: string;
  /** Milliseconds to wait for Redis before deciding without it, at most 2^31 - 1. Default `200`. */
  commandTimeout?: number;
  /**
   * What a rate limit does while Redis cannot answer: `allow` (fail open), `deny` (fail closed, 429), or `local`
   * (an in-process bucket of `limit / replicas`). Every such decision emits a `rate-limit-store-error` event.
   * Default `'local'`.
   */
  onStoreError?: StoreErrorMode;
  /**
   * Replicas sharing the limit: the `local` fallback admits `1 / replicas` of it in each, but at least one call's
   * tokens per bucket (so with `limit < replicas` the cluster may admit one call per replica in a burst). At most
   * 10,000. Default `1`.
   */
  replicas?: number;
  /**
   * After a Redis error, milliseconds during which calls are decided without asking Redis; then one call tries it
   * again. Keeps a down or slow Redis from costing every request a timeout. Default `1000`.
   */
  retryInterval?: number;
}

/** The options with defaults applied. */
export interface ResolvedRedisStoreOptions {
  readonly prefix: string;
  readonly commandTimeout: number;
  readonly onStoreError: StoreErrorMode;
  readonly replicas: number;
  readonly retryInterval: number;
}

/** Library defaults of {@link RedisStoreOptions} (frozen). */
export const DEFAULT_REDIS_STORE_OPTIONS: ResolvedRedisStoreOptions = Object.freeze({
  prefix: 'nest-resilience:',
  commandTimeout: 200,
  onStoreError: 'local',
  replicas: 1,
  retryInterval: 1000,
});

/** Every option name of {@link RedisStoreOptions}, for refusing unknown ones; the mapped type keeps it complete. */
const REDIS_STORE_OPTION_NAMES = Object.keys({
  client: true,
  url: true,
  redisOptions: true,
  prefix: true,
  commandTimeout: true,
  onStoreError: true,
  replicas: true,
  retryInterval: true,
} satisfies Record<keyof RedisStoreOptions, true>);

/** The options of `new RedisStore(...)` with their defaults, checked: a mistake names the option, value and type. */
export function validateRedisStoreOptions(options: RedisStoreOptions): ResolvedRedisStoreOptions {
  const validator = new OptionsValidator('store', 'RedisStore', 'new RedisStore(...)');
  validator.objectOptions('options', options, "{ url: 'redis://localhost:6379' }", REDIS_STORE_OPTION_NAMES);
  if ((options.client === undefined) === (options.url === undefined)) {
    validator.fail('client', options.client, 'give exactly one of "client" (an ioredis client) or "url"');
  }
  if (options.url !== undefined && typeof options.url !== 'string') {
    validator.fail('url', options.url, `must be a string, got ${typeOf(options.url)}`);
  }
  const merged = { ...DEFAULT_REDIS_STORE_OPTIONS, ...withoutUndefined(options) };
  if (typeof merged.prefix !== 'string')
    validator.fail('prefix', merged.prefix, `must be a string, got ${typeOf(merged.prefix)}`);
  return {
    prefix: merged.prefix,
    commandTimeout: validator.positiveDuration('commandTimeout', merged.commandTimeout),
    onStoreError: validator.oneOf('onStoreError', merged.onStoreError, ['allow', 'deny', 'local']),
    replicas: validator.boundedInteger('replicas', merged.replicas, 1, MAX_REPLICAS),
    retryInterval: validator.nonNegativeDuration('retryInterval', merged.retryInterval),
  };
}
