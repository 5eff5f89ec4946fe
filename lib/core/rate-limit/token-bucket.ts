import type { RateLimitDecision, TokenBucketRule } from './rate-limit-store.interface.js';

/** One bucket's state: tokens at `updatedAt` (epoch ms). Tokens may be negative while calls wait for reserved ones. */
export interface BucketState {
  tokens: number;
  updatedAt: number;
  /** When the bucket will be full again, for evicting idle buckets without a timer. */
  fullAt: number;
  /** Epoch ms until which every call is refused (`blockDuration`); 0 when not blocked. */
  blockedUntil: number;
}

/**
 * The token-bucket rule, shared by every store (the Redis script implements the same lines): refill by elapsed time
 * up to the capacity, then spend `cost` if there, or reserve it if the wait is at most `maxWaitMs`, or refuse. A
 * refusal under a rule with `blockMs` blocks the bucket for that long; once the block ends the bucket starts full
 * (as @nestjs/throttler's counters start again).
 */
export function spendTokens(
  bucket: BucketState,
  rule: TokenBucketRule,
  cost: number,
  maxWaitMs: number,
  now: number,
): RateLimitDecision {
  const { capacity, refillPerMs } = rule;
  if (bucket.blockedUntil !== 0) {
    if (bucket.blockedUntil > now) return blocked(bucket.blockedUntil - now);
    bucket.blockedUntil = 0;
    bucket.tokens = capacity;
    bucket.updatedAt = now;
  }
  const available = availableTokens(bucket, rule, now);
  const after = available - cost;
  const waitMs = after >= 0 ? 0 : -after / refillPerMs;
  const allowed = waitMs <= maxWaitMs;
  const tokens = allowed ? after : available;
  bucket.tokens = tokens;
  bucket.updatedAt = now;
  const blockMs = rule.blockMs ?? 0;
  if (!allowed && blockMs > 0) {
    bucket.blockedUntil = bucket.fullAt = now + blockMs;
    return blocked(blockMs);
  }
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

/**
 * {@link spendTokens} for a call that cannot wait, when the tokens are there now: spends them and returns true,
 * leaving the bucket exactly as `spendTokens` would. Otherwise returns false and leaves the bucket as it was, for
 * `spendTokens` to decide (a wait, a refusal, a block). No decision object: the hot path of a call admitted at once.
 */
export function takeTokens(bucket: BucketState, rule: TokenBucketRule, cost: number, now: number): boolean {
  if (bucket.blockedUntil !== 0) return false;
  const tokens = availableTokens(bucket, rule, now) - cost;
  if (tokens < 0) return false;
  bucket.tokens = tokens;
  bucket.updatedAt = now;
  bucket.fullAt = now + (rule.capacity - tokens) / rule.refillPerMs;
  return true;
}

/** The tokens `bucket` holds at `now`: refilled by the time since it was last spent from, up to the capacity. */
function availableTokens(bucket: BucketState, rule: TokenBucketRule, now: number): number {
  return Math.min(rule.capacity, bucket.tokens + Math.max(0, now - bucket.updatedAt) * rule.refillPerMs);
}

/** The refusal of a blocked bucket: nothing left until the block ends, and then it is full. */
function blocked(forMs: number): RateLimitDecision {
  return { allowed: false, remaining: 0, waitMs: 0, retryAfterMs: forMs, resetMs: forMs };
}
