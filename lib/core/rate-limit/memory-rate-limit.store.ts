import type { RateLimitDecision, RateLimitStore, TokenBucketRule } from './rate-limit-store.interface.js';
import { spendTokens, type BucketState } from './token-bucket.js';

/** Options of {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /** Most buckets kept; beyond it the least recently used is evicted. Default `100_000`. */
  maxKeys?: number;
}

/**
 * Buckets in this process's memory: the default store, needing no server. No timers: a bucket that has refilled
 * completely is the same as no bucket, so the least recently used one is dropped as soon as it is full again, and
 * at most `maxKeys` are kept (least recently used evicted first), so a flood of distinct client addresses cannot
 * exhaust memory. With several replicas each keeps its own buckets: use a shared store.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly buckets = new Map<string, BucketState>();
  private readonly maxKeys: number;

  constructor(
    options: MemoryRateLimitStoreOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.maxKeys = options.maxKeys ?? 100_000;
    if (!Number.isInteger(this.maxKeys) || this.maxKeys < 1) {
      throw new RangeError(`MemoryRateLimitStore option "maxKeys" = ${options.maxKeys} must be an integer >= 1`);
    }
  }

  /** Buckets held now. */
  get size(): number {
    return this.buckets.size;
  }

  consume(key: string, rule: TokenBucketRule, cost: number, maxWaitMs: number): RateLimitDecision {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: rule.capacity, updatedAt: now, fullAt: now };
      if (this.buckets.size >= this.maxKeys) this.evictOldest();
    } else {
      // Re-inserting moves the key to the end: Map order is then least recently used first.
      this.buckets.delete(key);
    }
    this.buckets.set(key, bucket);
    this.dropOldestIfFull(now);
    return spendTokens(bucket, rule, cost, maxWaitMs, now);
  }

  private evictOldest(): void {
    const oldest = this.buckets.keys().next();
    if (!oldest.done) this.buckets.delete(oldest.value);
  }

  /** One step of lazy clean-up per call: idle buckets disappear without a sweep timer. */
  private dropOldestIfFull(now: number): void {
    const oldest = this.buckets.entries().next();
    if (!oldest.done && oldest.value[1].fullAt <= now && this.buckets.size > 1) this.buckets.delete(oldest.value[0]);
  }
}
