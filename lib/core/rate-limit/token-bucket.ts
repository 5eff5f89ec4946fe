import type { RateLimitDecision, TokenBucketRule } from './rate-limit-store.interface.js';

/** One bucket's state: tokens at `updatedAt` (epoch ms). Tokens may be negative while calls wait for reserved ones. */
export interface BucketState {
  tokens: number;
  updatedAt: number;
  /** When the bucket will be full again, for evicting idle buckets without a timer. */
  fullAt: number;
}

/**
 * The token-bucket rule, shared by every store (the Redis script implements the same lines): refill by elapsed time
 * up to the capacity, then spend `cost` if there, or reserve it if the wait is at most `maxWaitMs`, or refuse.
 */
export function spendTokens(
  bucket: BucketState,
  rule: TokenBucketRule,
  cost: number,
  maxWaitMs: number,
  now: number,
): RateLimitDecision {
  const { capacity, refillPerMs } = rule;
  const available = Math.min(capacity, bucket.tokens + Math.max(0, now - bucket.updatedAt) * refillPerMs);
  const after = available - cost;
  const waitMs = after >= 0 ? 0 : -after / refillPerMs;
  const allowed = waitMs <= maxWaitMs;
  const tokens = allowed ? after : available;
  bucket.tokens = tokens;
  bucket.updatedAt = now;
  const resetMs = (capacity - tokens) / refillPerMs;
  bucket.fullAt = now + resetMs;
  return {
    allowed,
    remaining: Math.max(0, Math.floor(tokens)),
    waitMs: allowed ? waitMs : 0,
    retryAfterMs: allowed ? 0 : (cost - available) / refillPerMs,
    resetMs,
  };
}
