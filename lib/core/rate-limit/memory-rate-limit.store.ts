import type { RateLimitDecision, RateLimitStore, TokenBucketRule } from './rate-limit-store.interface.js';
import { spendTokens, type BucketState } from './token-bucket.js';
import { IntrusiveList, type ListNode } from '../util/intrusive-list.js';

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
  /** Least recently used first. Never found by iterating the Map, whose deleted entries V8 skips one by one. */
  private readonly recency = new IntrusiveList<LinkedBucket>();
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
      if (this.buckets.size >= this.maxKeys) this.remove(this.recency.first!);
      bucket = { key, tokens: rule.capacity, updatedAt: now, fullAt: now };
      this.buckets.set(key, bucket);
      this.recency.append(bucket);
    } else if (bucket !== this.recency.last) {
      this.recency.remove(bucket);
      this.recency.append(bucket);
    }
    this.dropOldestIfFull(now);
    return spendTokens(bucket, rule, cost, maxWaitMs, now);
  }

  /** One step of lazy clean-up per call: idle buckets disappear without a sweep timer. */
  private dropOldestIfFull(now: number): void {
    const oldest = this.recency.first!;
    if (oldest !== this.recency.last && oldest.fullAt <= now) this.remove(oldest);
  }

  private remove(bucket: LinkedBucket): void {
    this.recency.remove(bucket);
    this.buckets.delete(bucket.key);
  }
}

/** A bucket in the recency list. */
interface LinkedBucket extends BucketState, ListNode<LinkedBucket> {
  readonly key: string;
}
