/**
 * What a store answers to `acquire`: the caller now holds the lease (and runs the work), or the key is taken by a
 * request still running, or it already holds a completed answer.
 */
export type IdempotencyAcquireResult =
  | { readonly outcome: 'acquired' }
  | {
      readonly outcome: 'in-flight';
      /** The fingerprint of the request holding the lease. */
      readonly fingerprint: string;
      /** Milliseconds until its lease runs out. */
      readonly leaseRemainingMs: number;
    }
  | {
      readonly outcome: 'completed';
      /** The fingerprint of the request that completed the record. */
      readonly fingerprint: string;
      /** The stored answer, as `complete` received it. */
      readonly response: string;
    };

/** A record as `get` reads it. */
export type IdempotencyRecord =
  | { readonly state: 'in-flight'; readonly fingerprint: string; readonly leaseRemainingMs: number }
  | { readonly state: 'completed'; readonly fingerprint: string; readonly response: string };

/**
 * Where idempotency records live: one record per scoped key. A record is first an in-flight **lease** (it expires on
 * its own, so a crashed process blocks the key only until then), then, once the work is done, the stored answer for
 * `ttl` ms. Every write after `acquire` is a compare-and-set on the **fencing token** the acquirer chose, so a slow
 * request whose lease ran out (and passed to another request) can never overwrite or delete the newer record.
 *
 * `MemoryIdempotencyStore` (the default) and `RedisStore#idempotency` (`nest-resilience/redis`) implement it.
 */
export interface IdempotencyStore {
  /**
   * True when records never leave this process (the memory store): handlers may then pass a short request's
   * canonical text itself as the fingerprint (exact, and cheaper than hashing it). Absent or false (Redis, your own
   * stores): fingerprints are SHA-256 digests, so what is written elsewhere is bounded and holds no payload.
   */
  readonly exactFingerprints?: boolean;
  /**
   * Takes the lease on `key` for `leaseMs` with the fencing `token` when the key is free (never used, expired, or
   * its lease ran out), else reports what holds it. Atomic.
   */
  acquire(key: string, fingerprint: string, token: string, leaseMs: number): Promise<IdempotencyAcquireResult>;
  /**
   * Stores `response` for `ttlMs` in place of the lease, if `token` still holds it; false (nothing written) when
   * the lease was lost.
   */
  complete(key: string, token: string, response: string, ttlMs: number): Promise<boolean>;
  /** Deletes the lease, if `token` still holds it, so the next request with the key runs again. */
  release(key: string, token: string): Promise<boolean>;
  /** Reads the record, `undefined` when there is none (or it expired). */
  get(key: string): Promise<IdempotencyRecord | undefined>;
}

/**
 * A store that answers in this process at once (`MemoryIdempotencyStore`): a handler calls these instead of the
 * Promise forms, and so runs, stores and answers a request without waiting a microtask turn for each step.
 * @internal
 */
export interface ImmediateIdempotencyStore {
  acquireNow(key: string, fingerprint: string, token: string, leaseMs: number): IdempotencyAcquireResult;
  completeNow(key: string, token: string, response: string, ttlMs: number): boolean;
}
