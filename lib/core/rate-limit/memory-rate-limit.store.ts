import { hash } from 'node:crypto';
import { OptionsValidator } from '../validation/options.validator.js';
import type {
  RateLimitDecision,
  RateLimitRequest,
  RateLimitStore,
  TokenBucketRule,
} from './rate-limit-store.interface.js';
import { spendTokens, takeTokens, type BucketState } from './token-bucket.js';
import { IntrusiveList, type ListNode } from '../util/intrusive-list.js';
import { MAX_KEY_LENGTH, MAX_RATE_LIMIT_KEYS } from '../validation/size-maxima.js';
import { epochAt, epochNow } from '../util/clock.js';

/** Options of {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /** Most buckets kept (at most 1,000,000); beyond it the least recently used is evicted. Default `100_000`. */
  maxKeys?: number;
  /**
   * Longest key kept as it is, in UTF-16 code units; a longer one (built from user input such as an API-key header)
   * is kept as its SHA-256 digest, so each bucket holds at most about this much key whatever clients send. From 64
   * to 1024. Default `200`.
   */
  maxKeyLength?: number;
}

/** Marks a hashed key, so that it cannot equal a short key given as it is. */
const HASHED = '\u0000sha256:';

/**
 * Buckets in this process's memory: the default store, needing no server. No timers: a bucket that has refilled
 * completely is the same as no bucket, so the least recently used one is dropped as soon as it is full again, and
 * at most `maxKeys` are kept (least recently used evicted first, in O(1) through a recency list), so a flood of
 * distinct client addresses cannot exhaust memory or slow the checks down. Keys longer than `maxKeyLength` are kept
 * as their SHA-256 digest, so the memory is bounded too (about 300 bytes a bucket). With several replicas each keeps
 * its own buckets: use a shared store. Its clock: epoch milliseconds that never step back with the system clock, read
 * as `Date.now()` while `Date` or the timers are faked (see `epochNow`); or the `now` function it is given.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly buckets = new Map<string, LinkedBucket>();
  /** Least recently used first. Never found by iterating the Map, whose deleted entries V8 skips one by one. */
  private readonly recency = new IntrusiveList<LinkedBucket>();
  private readonly maxKeys: number;
  private readonly maxKeyLength: number;

  constructor(
    options: MemoryRateLimitStoreOptions = {},
    private readonly now: () => number = epochNow,
  ) {
    const validator = new OptionsValidator('store', 'MemoryRateLimitStore', 'new MemoryRateLimitStore(...)');
    validator.objectOptions('options', options, '{ maxKeys: 100_000 }', ['maxKeys', 'maxKeyLength']);
    this.maxKeys = validator.boundedInteger('maxKeys', options.maxKeys ?? 100_000, 1, MAX_RATE_LIMIT_KEYS);
    // 64: room for a limit's name and a SHA-256 digest, which must stay short themselves.
    this.maxKeyLength = validator.boundedInteger('maxKeyLength', options.maxKeyLength ?? 200, 64, MAX_KEY_LENGTH);
  }

  /** Buckets held now. */
  get size(): number {
    return this.buckets.size;
  }

  consume(key: string, rule: TokenBucketRule, cost: number, maxWaitMs: number): RateLimitDecision {
    const now = this.now();
    return spendTokens(this.bucketOf(key, rule, now), rule, cost, maxWaitMs, now);
  }

  /**
   * Spends `cost` tokens of the bucket `key` when they are there now, and returns true; otherwise false, the bucket
   * as it was (ask {@link consume} then). What a call that needs no headers asks first: no decision object.
   * `monotonic`: a `monotonicNow()` reading the caller took in this synchronous run (the fused call reads one clock
   * for its rate limit and its deadline); used only while this store reads the default clock.
   * @internal
   */
  take(key: string, rule: TokenBucketRule, cost: number, monotonic?: number): boolean {
    const now = monotonic !== undefined && this.now === epochNow ? epochAt(monotonic) : this.now();
    return takeTokens(this.bucketOf(key, rule, now), rule, cost, now);
  }

  /**
   * Spends from every bucket of `requests` only when all admit: each is spent in turn, and when one refuses the
   * others are put back as they were. Synchronous, so no other call sees the intermediate state.
   */
  consumeAll(requests: readonly RateLimitRequest[]): RateLimitDecision[] {
    const now = this.now();
    const buckets: LinkedBucket[] = [];
    const before: BucketState[] = [];
    // Each bucket is spent as soon as it is found: a full bucket found earlier could be dropped as idle by the lazy
    // clean-up of a later lookup.
    const decisions = requests.map((request) => {
      const bucket = this.bucketOf(request.key, request.rule, now);
      const { tokens, updatedAt, fullAt, blockedUntil } = bucket;
      buckets.push(bucket);
      before.push({ tokens, updatedAt, fullAt, blockedUntil });
      return spendTokens(bucket, request.rule, request.cost, request.maxWaitMs, now);
    });
    if (decisions.every((decision) => decision.allowed)) return decisions;
    decisions.forEach((decision, index) => {
      if (decision.allowed) Object.assign(buckets[index], before[index]);
    });
    return decisions;
  }

  /** The bucket of `key`, made full when new, and marked as the most recently used. */
  private bucketOf(key: string, rule: TokenBucketRule, now: number): LinkedBucket {
    // Bounds the bytes a bucket holds, not only the bucket count: 100,000 keys of 1 MB each would be 100 GB.
    // One-shot crypto.hash (Node >= 20.12): a third faster than createHash for 1 KB keys.
    if (key.length > this.maxKeyLength) key = HASHED + hash('sha256', key, 'base64url');
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) this.remove(this.recency.first!);
      bucket = { key, tokens: rule.capacity, updatedAt: now, fullAt: now, blockedUntil: 0 };
      this.buckets.set(key, bucket);
      this.recency.append(bucket);
    } else if (bucket !== this.recency.last) {
      this.recency.remove(bucket);
      this.recency.append(bucket);
    }
    this.dropOldestIfFull(now);
    return bucket;
  }

  /** Forgets the bucket `key`: the next call finds it full. */
  delete(key: string): void {
    if (key.length > this.maxKeyLength) key = HASHED + hash('sha256', key, 'base64url');
    const bucket = this.buckets.get(key);
    if (bucket !== undefined) this.remove(bucket);
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
