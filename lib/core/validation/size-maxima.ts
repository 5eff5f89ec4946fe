/**
 * The largest value a size or count option accepts, and why: a value above it fails at bootstrap with a
 * `ResilienceConfigError` whose message gives the reason (`OptionsValidator.boundedInteger`). Each maximum is far
 * above any legitimate setting; it exists so that a unit mistake or a stray environment variable (`1e9`, `2**53 - 1`)
 * fails clearly instead of allocating gigabytes, throwing a `RangeError`, or quietly switching a policy off.
 */
export interface SizeMaximum {
  /** The largest value accepted. */
  readonly max: number;
  /** Why, as the error message says it after the bound. */
  readonly why: string;
}

/** `@CircuitBreaker` `windowSize` of a count window. */
export const MAX_COUNT_WINDOW: SizeMaximum = {
  max: 10_000,
  why:
    'a count window keeps one byte per call for each breaker, and an HTTP client one breaker per origin; a breaker ' +
    'judging more calls than that reacts long after the outage began',
};

/** `@CircuitBreaker` `minimumCalls` (a count window also holds it to `windowSize`). */
export const MAX_MINIMUM_CALLS: SizeMaximum = {
  max: 1_000_000,
  why: 'a breaker waiting for more calls than that before judging opens long after the outage began',
};

/** `@CircuitBreaker` `consecutiveFailures` and `halfOpenMaxCalls`. */
export const MAX_BREAKER_CALLS: SizeMaximum = {
  max: 10_000,
  why: 'the size of the largest count window: beyond it a breaker no longer protects the downstream',
};

/** `@Bulkhead` `maxConcurrent` and the `adaptive` limits. */
export const MAX_CONCURRENT: SizeMaximum = {
  max: 100_000,
  why: 'a Node.js process runs a few tens of thousands of calls at once at most, so a larger limit bounds nothing',
};

/** `@Bulkhead` `maxQueue`. */
export const MAX_QUEUE: SizeMaximum = {
  max: 100_000,
  why: 'each waiting call holds its queue entry, arguments and closure (about 1 KB) in memory, per compartment',
};

/** `@RateLimit` `limit` and `burst`. */
export const MAX_RATE_LIMIT: SizeMaximum = {
  max: 1_000_000_000,
  why:
    'tokens are doubles in memory and in the Redis script, exact to a fraction of a token up to a billion; a larger ' +
    'limit limits nothing (leave @RateLimit off)',
};

/** `@Retry` `maxAttempts`. */
export const MAX_ATTEMPTS: SizeMaximum = {
  max: 1_000,
  why: 'a thousand attempts at the default 30 s cap is over 8 hours of one call; longer belongs to a queue',
};

/** `@Hedge` `maxHedges`. */
export const MAX_HEDGES: SizeMaximum = {
  max: 10,
  why: "each hedge is one more copy of the call on a downstream that is already slow (Polly's bound too)",
};

/** `@Timeout` `adaptive.minSamples` and other counts that allocate nothing (`chaos.maxInjectionsPerMinute`). */
export const MAX_COUNT: SizeMaximum = {
  max: 1_000_000,
  why: 'a count no window reaches in practice, so the option would never take effect',
};

/** `chaos.seed`. */
export const MAX_SEED: SizeMaximum = {
  max: 4_294_967_295,
  why: 'the generator keeps 32 bits, so a larger seed would repeat the draws of a smaller one',
};

/** `maxEntries` of the memory idempotency store and of last-known-good caches. */
export const MAX_MEMORY_ENTRIES: SizeMaximum = {
  max: 1_000_000,
  why: 'each entry costs a few hundred bytes of bookkeeping besides its answer, in this process (use Redis beyond)',
};

/** `maxBytes` of the memory idempotency store and of last-known-good caches: 1 GiB. */
export const MAX_MEMORY_BYTES: SizeMaximum = {
  max: 1_073_741_824,
  why: '1 GiB of answers in the process heap (V8 gives a few GB in all); use Redis beyond',
};

/** `MemoryRateLimitStore` `maxKeys`. */
export const MAX_RATE_LIMIT_KEYS: SizeMaximum = {
  max: 1_000_000,
  why: 'about 300 bytes a bucket, so 300 MB in this process (use Redis beyond)',
};

/** `MemoryRateLimitStore` `maxKeyLength`. */
export const MAX_KEY_LENGTH: SizeMaximum = {
  max: 1_024,
  why: 'a key is kept as written up to this length (2 bytes a character), for each bucket; a longer one as its digest',
};

/** `RedisStore` `replicas`. */
export const MAX_REPLICAS: SizeMaximum = {
  max: 10_000,
  why: "each replica's local share of a limit is limit / replicas, below a token for any usual limit beyond that",
};
