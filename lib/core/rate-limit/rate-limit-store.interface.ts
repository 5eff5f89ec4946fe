import type { ResilienceEvents } from '../events/resilience-events.js';

/** The bucket a limit uses: its capacity and how fast it refills. */
export interface TokenBucketRule {
  /** Maximum tokens (the burst). */
  readonly capacity: number;
  /** Tokens added per millisecond (limit / interval). */
  readonly refillPerMs: number;
  /**
   * Milliseconds a refused call blocks the bucket for (`blockDuration`): every call meanwhile is refused, and the
   * bucket is full when the block ends. Absent or 0: no block.
   */
  readonly blockMs?: number;
}

/** One bucket to spend from in {@link RateLimitStore.consumeAll}. */
export interface RateLimitRequest {
  readonly key: string;
  readonly rule: TokenBucketRule;
  readonly cost: number;
  readonly maxWaitMs: number;
}

/** What a store answers for one attempt to spend tokens. */
export interface RateLimitDecision {
  /** True when the call may go ahead (possibly after `waitMs`). */
  readonly allowed: boolean;
  /** Whole tokens left after this call. */
  readonly remaining: number;
  /** Milliseconds the allowed call must wait for its reserved tokens (0 when they were there). */
  readonly waitMs: number;
  /** For a refused call: milliseconds until enough tokens are available. */
  readonly retryAfterMs: number;
  /** Milliseconds until the bucket is full again. */
  readonly resetMs: number;
}

/**
 * Where buckets live. The in-memory store answers synchronously; a shared store (Redis) answers with a Promise.
 * Implementations must apply the token-bucket rule atomically per key.
 */
export interface RateLimitStore {
  /**
   * Spends `cost` tokens of the bucket `key`. When they are not there, the call may still be allowed if the wait
   * for them is at most `maxWaitMs`: the tokens are reserved (the bucket goes below zero) and `waitMs` says how long.
   */
  consume(
    key: string,
    rule: TokenBucketRule,
    cost: number,
    maxWaitMs: number,
  ): RateLimitDecision | Promise<RateLimitDecision>;

  /**
   * Spends from several buckets at once (a handler or method with several limits), atomically: either every bucket
   * admits its request and each spends, or none spends and the refusing buckets say why (a refusing bucket with
   * `blockMs` is blocked). The decisions are in the order of `requests`. Optional: without it the limits are checked
   * one after the other, stopping at the first refusal, so a refusal by a later limit has already spent tokens of the
   * earlier ones.
   */
  consumeAll?(
    requests: readonly RateLimitRequest[],
  ): readonly RateLimitDecision[] | Promise<readonly RateLimitDecision[]>;

  /** Forgets the bucket `key` (it starts full again): what the testing kit's `resetRateLimit` calls. Optional. */
  delete?(key: string): void | Promise<void>;

  /** Called once by the module with the application's event stream, for stores that report degraded decisions. */
  attach?(events: ResilienceEvents): void;

  /** Called when the application shuts down: release connections the store opened itself. */
  close?(): Promise<void>;
}
