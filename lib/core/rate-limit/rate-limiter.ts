import type { RateLimitOptions } from './rate-limit-options.js';
import type { RateLimitDecision, RateLimitStore, TokenBucketRule } from './rate-limit-store.interface.js';

/** One named limit, shared by every method naming it: its bucket rule and the store holding the buckets. */
export class RateLimiter {
  readonly rule: TokenBucketRule;
  /** Bucket capacity, as reported in `RateLimit-Limit`. */
  readonly capacity: number;
  /** The same as the header's text, computed once. */
  readonly capacityHeader: string;

  constructor(
    readonly name: string,
    readonly options: RateLimitOptions,
    private readonly store: RateLimitStore,
  ) {
    this.capacity = options.burst ?? options.limit;
    this.capacityHeader = String(this.capacity);
    this.rule = { capacity: this.capacity, refillPerMs: options.limit / options.interval };
  }

  /** Spends this limit's cost from the bucket of `key` (keys are prefixed by the limit's name). */
  consume(key: string, maxWaitMs: number): RateLimitDecision | Promise<RateLimitDecision> {
    return this.store.consume(`${this.name}:${key}`, this.rule, this.options.cost, maxWaitMs);
  }
}
