/** One remembered answer: the result as JSON, and when it was produced (epoch ms). */
export interface RememberedAnswer {
  /** The result, serialized with `JSON.stringify` (a snapshot: later changes to the object do not leak in). */
  readonly json: string;
  /** Epoch milliseconds at which the primary produced it. */
  readonly storedAt: number;
}

/**
 * Where last-known-good answers live, keyed by `cache name + call key`. Memory by default (one store per cache,
 * bounded in entries and bytes); `RedisLastKnownGoodStore` (`nest-resilience/redis`) shares answers between
 * replicas. Implement it for another backend: both methods may answer synchronously or with a Promise, and must not
 * throw (a failing backend answers `undefined` from `get`, and ignores a `set`).
 */
export interface LastKnownGoodStore {
  /** The answer remembered for `key`, or `undefined`. */
  get(key: string): RememberedAnswer | undefined | Promise<RememberedAnswer | undefined>;
  /** Remembers `answer` for `key`, replacing an older one; it is of no use after `ttlMs` (the cache's `maxAge`). */
  set(key: string, answer: RememberedAnswer, ttlMs: number): void | Promise<void>;
  /** Entries and bytes held now, when the store knows them cheaply (memory). */
  size?(): { entries: number; bytes: number };
  /** Forgets every answer. */
  clear?(): void | Promise<void>;
}
