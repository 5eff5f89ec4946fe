import { describe, expect, it } from 'vitest';
import {
  MemoryDeadLetterStore,
  MemoryIdempotencyStore,
  MemoryRateLimitStore,
  ResilienceConfigError,
} from '../../lib/index.js';
import { DEFAULT_BULKHEAD_OPTIONS, validateBulkheadOptions } from '../../lib/core/bulkhead/bulkhead.options.js';
import { validateChaosOptions } from '../../lib/core/chaos/chaos.options.js';
import {
  DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  validateCircuitBreakerOptions,
} from '../../lib/core/circuit-breaker/circuit-breaker.options.js';
import { validateLastKnownGoodOptions } from '../../lib/core/fallback/last-known-good.options.js';
import { DEFAULT_HEDGE_OPTIONS, validateHedgeOptions } from '../../lib/core/hedge/hedge.options.js';
import { DEFAULT_RATE_LIMIT_OPTIONS, validateRateLimitOptions } from '../../lib/core/rate-limit/rate-limit.options.js';
import { DEFAULT_RETRY_OPTIONS, validateRetryOptions } from '../../lib/core/retry/retry.options.js';
import { DEFAULT_TIMEOUT_OPTIONS, validateTimeoutOptions } from '../../lib/core/timeout/timeout.options.js';
import { OptionsValidator } from '../../lib/core/validation/options.validator.js';
import * as maxima from '../../lib/core/validation/size-maxima.js';
import { resolveHttpClientOptions } from '../../lib/http/resolve-http-options.js';
import { RedisDeadLetterStore } from '../../lib/redis/redis-dead-letter.store.js';
import { RedisStore } from '../../lib/redis/redis-store.js';

const validator = (kind: string) => new OptionsValidator(kind, 'payments', 'Gateway.charge');

/** One size or count option: its bound, and a run that validates the given value in its place. */
interface Case {
  readonly kind: string;
  readonly option: string;
  readonly max: number;
  readonly why: string;
  readonly policy?: string;
  readonly run: (value: number) => unknown;
}

const { MAX_ATTEMPTS, MAX_BREAKER_CALLS, MAX_CONCURRENT, MAX_COUNT, MAX_COUNT_WINDOW, MAX_HEDGES } = maxima;
const { MAX_KEY_LENGTH, MAX_MEMORY_BYTES, MAX_MEMORY_ENTRIES, MAX_MINIMUM_CALLS, MAX_QUEUE, MAX_RATE_LIMIT } = maxima;
const { MAX_RATE_LIMIT_KEYS, MAX_REPLICAS, MAX_SEED } = maxima;

const policyCase = (
  kind: string,
  option: string,
  { max, why }: maxima.SizeMaximum,
  run: (value: number) => unknown,
): Case => ({ kind, option, max, why, run });

const breaker = (options: object) =>
  validateCircuitBreakerOptions({ ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, ...options }, validator('circuit breaker'));
const bulkhead = (options: object) =>
  validateBulkheadOptions({ ...DEFAULT_BULKHEAD_OPTIONS, ...options }, validator('bulkhead'));
const rateLimit = (options: object) =>
  validateRateLimitOptions({ ...DEFAULT_RATE_LIMIT_OPTIONS, ...options }, validator('rate limit'));
const lastKnownGood = (options: object) =>
  validateLastKnownGoodOptions({ maxAge: 1000, ...options }, validator('fallback'));

const CASES: Case[] = [
  policyCase('circuit breaker', 'windowSize', MAX_COUNT_WINDOW, (windowSize) => breaker({ windowSize })),
  policyCase('circuit breaker', 'minimumCalls', MAX_MINIMUM_CALLS, (minimumCalls) =>
    breaker({ window: 'time', minimumCalls }),
  ),
  policyCase('circuit breaker', 'consecutiveFailures', MAX_BREAKER_CALLS, (consecutiveFailures) =>
    breaker({ consecutiveFailures }),
  ),
  policyCase('circuit breaker', 'halfOpenMaxCalls', MAX_BREAKER_CALLS, (halfOpenMaxCalls) =>
    breaker({ halfOpenMaxCalls }),
  ),
  policyCase('bulkhead', 'maxConcurrent', MAX_CONCURRENT, (maxConcurrent) => bulkhead({ maxConcurrent })),
  policyCase('bulkhead', 'maxQueue', MAX_QUEUE, (maxQueue) => bulkhead({ maxQueue })),
  policyCase('bulkhead', 'adaptive.maxLimit', MAX_CONCURRENT, (maxLimit) =>
    bulkhead({ adaptive: { algorithm: 'vegas', maxLimit } }),
  ),
  policyCase('bulkhead', 'adaptive.minLimit', MAX_CONCURRENT, (minLimit) =>
    bulkhead({ adaptive: { algorithm: 'vegas', minLimit, initialLimit: minLimit, maxLimit: minLimit } }),
  ),
  policyCase('bulkhead', 'adaptive.initialLimit', MAX_CONCURRENT, (initialLimit) =>
    bulkhead({ adaptive: { algorithm: 'vegas', initialLimit, maxLimit: MAX_CONCURRENT.max } }),
  ),
  policyCase('rate limit', 'limit', MAX_RATE_LIMIT, (limit) => rateLimit({ limit })),
  policyCase('rate limit', 'burst', MAX_RATE_LIMIT, (burst) => rateLimit({ burst })),
  policyCase('retry', 'maxAttempts', MAX_ATTEMPTS, (maxAttempts) =>
    validateRetryOptions({ ...DEFAULT_RETRY_OPTIONS, maxAttempts }, validator('retry')),
  ),
  policyCase('hedge', 'maxHedges', MAX_HEDGES, (maxHedges) =>
    validateHedgeOptions({ ...DEFAULT_HEDGE_OPTIONS, maxHedges }, validator('hedge')),
  ),
  policyCase('timeout', 'adaptive.minSamples', MAX_COUNT, (minSamples) =>
    validateTimeoutOptions({ ...DEFAULT_TIMEOUT_OPTIONS, adaptive: { minSamples } }, validator('timeout')),
  ),
  policyCase('fallback', 'maxEntries', MAX_MEMORY_ENTRIES, (maxEntries) => lastKnownGood({ maxEntries })),
  policyCase('fallback', 'maxBytes', MAX_MEMORY_BYTES, (maxBytes) => lastKnownGood({ maxBytes })),
  {
    ...policyCase('chaos', 'seed', MAX_SEED, (seed) => validateChaosOptions({ seed }, 'test')),
    policy: 'chaos',
  },
  {
    ...policyCase('chaos', 'maxInjectionsPerMinute', MAX_COUNT, (maxInjectionsPerMinute) =>
      validateChaosOptions({ maxInjectionsPerMinute }, 'test'),
    ),
    policy: 'chaos',
  },
  {
    ...policyCase('store', 'maxKeys', MAX_RATE_LIMIT_KEYS, (maxKeys) => new MemoryRateLimitStore({ maxKeys })),
    policy: 'MemoryRateLimitStore',
  },
  {
    ...policyCase(
      'store',
      'maxKeyLength',
      MAX_KEY_LENGTH,
      (maxKeyLength) => new MemoryRateLimitStore({ maxKeyLength }),
    ),
    policy: 'MemoryRateLimitStore',
  },
  {
    ...policyCase(
      'store',
      'maxEntries',
      MAX_MEMORY_ENTRIES,
      (maxEntries) => new MemoryIdempotencyStore({ maxEntries }),
    ),
    policy: 'MemoryIdempotencyStore',
  },
  {
    ...policyCase('store', 'maxBytes', MAX_MEMORY_BYTES, (maxBytes) => new MemoryIdempotencyStore({ maxBytes })),
    policy: 'MemoryIdempotencyStore',
  },
];

/** The configuration error `run` throws (fails the test if it throws anything else or nothing). */
function errorOf(run: () => unknown): ResilienceConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ResilienceConfigError);
    return error as ResilienceConfigError;
  }
  throw new Error('no error thrown');
}

describe('size and count options have a documented maximum', () => {
  it.each(CASES.map((entry) => [`${entry.kind} ${entry.option}`, entry] as const))(
    '%s: the maximum itself is accepted',
    (_, { run, max }) => {
      expect(() => run(max)).not.toThrow();
    },
  );

  it.each(CASES.map((entry) => [`${entry.kind} ${entry.option}`, entry] as const))(
    '%s: one above is refused naming the option, the value, its type, the policy and why',
    (_, { kind, option, max, why, policy = 'payments', run }) => {
      const error = errorOf(() => run(max + 1));
      expect(error.policy).toBe(policy);
      expect(error.message).toMatch(`Invalid ${kind} option "${option}" = ${max + 1} for policy "${policy}" (`);
      expect(error.message).toMatch(
        `: must be at most ${max.toLocaleString('en-US')}, got the number ${max + 1}: ${why}`,
      );
    },
  );

  it('refuses a windowSize of 2^53 - 1 or 1e9 with the bound, never a RangeError or a gigabyte', () => {
    for (const windowSize of [2 ** 53 - 1, 1e9, '1e9']) {
      const error = errorOf(() => breaker({ windowSize }));
      expect(error.message).toContain('must be at most 10,000, got ');
      expect(error.message).toContain('a count window keeps one byte per call');
    }
    expect(errorOf(() => breaker({ windowSize: '1e9' })).message).toContain('got the string "1e9"');
  });

  it('keeps the time window bound in seconds (3600) apart from the count window bound', () => {
    expect(breaker({ window: 'time', windowSize: 3600 }).windowSize).toBe(3600);
    expect(errorOf(() => breaker({ window: 'time', windowSize: 3601 })).message).toMatch(/in seconds, at most 3600/);
  });

  it('accepts numeric strings up to the bound, as ConfigService gives them', () => {
    expect(breaker({ windowSize: '10000' }).windowSize).toBe(10_000);
    expect(rateLimit({ limit: '1e9' }).limit).toBe(1e9);
  });

  it('bounds the HTTP client, the dead-letter stores and the Redis store the same way', () => {
    const client = (options: object) => resolveHttpClientOptions({ name: 'orders', ...options }, 'register');
    expect(client({ maxOrigins: 10_000, maxBodyExcerpt: 1_000_000 })).toMatchObject({ maxOrigins: 10_000 });
    expect(errorOf(() => client({ maxOrigins: 10_001 })).message).toMatch(
      /"maxOrigins" = 10001 .*must be an integer from 1 to 10,000, got the number 10001: each origin keeps/,
    );
    expect(errorOf(() => client({ maxBodyExcerpt: 1_000_001 })).message).toMatch(/"maxBodyExcerpt" = 1000001 .*/);
    expect(errorOf(() => client({ circuitBreaker: { window: 'count', windowSize: 10_001 } })).message).toMatch(
      /Invalid circuit breaker option "windowSize" = 10001 for policy "orders" .*must be at most 10,000/,
    );
    expect(errorOf(() => new MemoryDeadLetterStore({ maxLettersPerQueue: 1_000_001 })).message).toMatch(
      /"maxLettersPerQueue" = 1000001 .*from 1 to 1,000,000, got the number 1000001: a million letters/,
    );
    expect(
      errorOf(() => new RedisDeadLetterStore({ options: { prefix: '' } } as never, { maxLength: 100_000_001 })).message,
    ).toMatch(/"maxLength" = 100000001 .*from 1 to 100,000,000, got the number 100000001/);
    expect(errorOf(() => new RedisStore({ url: 'redis://127.0.0.1:1', replicas: MAX_REPLICAS.max + 1 })).message).toBe(
      `Invalid store option "replicas" = ${MAX_REPLICAS.max + 1} for policy "RedisStore" (declared on new ` +
        `RedisStore(...)): must be at most 10,000, got the number 10001: ${MAX_REPLICAS.why}`,
    );
  });
});
