export { RedisStore } from './redis-store.js';
export { RedisIdempotencyStore } from './redis-idempotency.store.js';
export {
  DEFAULT_REDIS_STORE_OPTIONS,
  type RedisStoreOptions,
  type ResolvedRedisStoreOptions,
  type StoreErrorMode,
} from './redis-store.options.js';
export { RedisStoreTimeoutError } from './with-timeout.js';
export { RedisLastKnownGoodStore } from './redis-last-known-good.store.js';
export { RedisDeadLetterStore, type RedisDeadLetterStoreOptions } from './redis-dead-letter.store.js';
export { RedisOutboxStore, type RedisOutboxStoreOptions } from './redis-outbox.store.js';
