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
 * at most `maxKeys` are kept (least recently used evicted first, in O(1) through a recency list), so a flood of
 * distinct client addresses cannot exhaust memory or slow the checks down. With several replicas each keeps its own buckets: use a shared store.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly buckets = new Map<string, LinkedBucket>();
  /** Least recently used bucket; `newest` is the most recently used. Never found by iterating the Map, whose deleted
   * entries would have to be skipped one by one. */
  private oldest: LinkedBucket | undefined;
  private newest: LinkedBucket | undefined;
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
      if (this.buckets.size >= this.maxKeys) this.remove(this.oldest!);
      bucket = { key, tokens: rule.capacity, updatedAt: now, fullAt: now, older: undefined, newer: undefined };
      this.buckets.set(key, bucket);
      this.append(bucket);
    } else if (bucket !== this.newest) {
      this.unlink(bucket);
      this.append(bucket);
    }
    this.dropOldestIfFull(now);
    return spendTokens(bucket, rule, cost, maxWaitMs, now);
  }

  /** One step of lazy clean-up per call: idle buckets disappear without a sweep timer. */
  private dropOldestIfFull(now: number): void {
    const oldest = this.oldest!;
    if (oldest !== this.newest && oldest.fullAt <= now) this.remove(oldest);
  }

  private remove(bucket: LinkedBucket): void {
    this.unlink(bucket);
    this.buckets.delete(bucket.key);
  }

  private append(bucket: LinkedBucket): void {
    bucket.older = this.newest;
    bucket.newer = undefined;
    if (this.newest) this.newest.newer = bucket;
    else this.oldest = bucket;
    this.newest = bucket;
  }

  private unlink(bucket: LinkedBucket): void {
    if (bucket.older) bucket.older.newer = bucket.newer;
    else this.oldest = bucket.newer;
    if (bucket.newer) bucket.newer.older = bucket.older;
    else this.newest = bucket.older;
  }
}

/** A bucket in the recency list. */
interface LinkedBucket extends BucketState {
  readonly key: string;
  older: LinkedBucket | undefined;
  newer: LinkedBucket | undefined;
}
