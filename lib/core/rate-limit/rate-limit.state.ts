import type { RateLimitOptions } from './rate-limit.options.js';
import type { RateLimitDecision, RateLimitStore, TokenBucketRule } from './rate-limit-store.interface.js';

/** A rate limit as the registry lists it. */
export interface RateLimitSnapshot {
  readonly name: string;
  /** Tokens added per `interval` ms. */
  readonly limit: number;
  readonly interval: number;
  /** Bucket capacity. */
  readonly capacity: number;
  /** Calls and requests allowed since the application started (a waiting call counts once its wait is granted). */
  readonly allowed: number;
  /** Calls and requests refused since the application started. */
  readonly refused: number;
}

/** One named limit, shared by every method naming it: its bucket rule and the store holding the buckets. */
export class RateLimitState {
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

  private allowed = 0;
  private refused = 0;

  /** The last key and its store key: a global limit (one key) builds its store key once, not per call. */
  private lastKey = '';
  private lastStoreKey = '';

  /** Spends this limit's cost from the bucket of `key` (keys are prefixed by the limit's name). */
  consume(key: string, maxWaitMs: number): RateLimitDecision | Promise<RateLimitDecision> {
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.lastStoreKey = `${this.name}:${key}`;
    }
    const decision = this.store.consume(this.lastStoreKey, this.rule, this.options.cost, maxWaitMs);
    // A shared store answers asynchronously: one more `then` beside a network round trip.
    if (decision instanceof Promise) return decision.then(this.tally);
    return this.tally(decision);
  }

  /** Forgets the bucket of `key` in the store, when the store can (`RateLimitStore.delete`); false when it cannot. */
  async reset(key: string): Promise<boolean> {
    if (this.store.delete === undefined) return false;
    await this.store.delete(`${this.name}:${key}`);
    return true;
  }

  /** Counts a decision (two integers: the metrics read them on scrape, nothing is done per call). */
  private readonly tally = (decision: RateLimitDecision): RateLimitDecision => {
    if (decision.allowed) this.allowed++;
    else this.refused++;
    return decision;
  };

  /** The limit's rule; the buckets themselves live in the store. */
  snapshot(): RateLimitSnapshot {
    const { name, capacity, allowed, refused } = this;
    return { name, limit: this.options.limit, interval: this.options.interval, capacity, allowed, refused };
  }
}
