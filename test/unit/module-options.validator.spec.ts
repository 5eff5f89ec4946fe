import { describe, expect, it } from 'vitest';
import { MemoryRateLimitStore, ResilienceConfigError } from '../../lib/index.js';
import { validateModuleOptions } from '../../lib/nest/module/module-options.validator.js';

function errorOf(options: unknown): string {
  try {
    validateModuleOptions(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ResilienceConfigError);
    expect(error).toMatchObject({ code: 'INVALID_CONFIGURATION', policy: 'ResilienceModule' });
    return (error as Error).message;
  }
  throw new Error('no error thrown');
}

describe('validateModuleOptions', () => {
  it('accepts the documented shapes', () => {
    expect(() => validateModuleOptions({})).not.toThrow();
    expect(() =>
      validateModuleOptions({
        defaults: { retry: { maxAttempts: 2 }, timeout: undefined },
        timeouts: { gateway: { duration: 800 } },
        retries: {},
        circuitBreakers: { payments: { failureRateThreshold: 50 } },
        bulkheads: { db: { maxConcurrent: 4 } },
        rateLimits: { api: { limit: 10 } },
        store: new MemoryRateLimitStore(),
      }),
    ).not.toThrow();
    expect(() => validateModuleOptions({ store: { consume: () => ({}) } })).not.toThrow();
  });

  it('accepts metrics as a boolean or its string, and refuses anything else naming the value and its type', () => {
    for (const metrics of [true, false, 'true', 'false'])
      expect(() => validateModuleOptions({ metrics })).not.toThrow();
    expect(errorOf({ metrics: 'yes' })).toBe(
      'ResilienceModule option "metrics" = "yes" must be true or false, got the string "yes"',
    );
    expect(errorOf({ metrcis: true })).toContain('Did you mean "metrics"?');
  });

  it('says what to check when a forRootAsync factory returns undefined', () => {
    expect(errorOf(undefined)).toBe(
      'ResilienceModule options must be an object, got undefined: ' +
        'does the forRootAsync useFactory return the options ' +
        '(a missing `return`, or an unawaited value)?',
    );
    expect(errorOf('redis://localhost')).toMatch(/must be an object, got the string "redis:\/\/localhost"/);
  });

  it('refuses unknown top-level keys with did-you-mean', () => {
    expect(errorOf({ circuitBreaker: {} })).toBe(
      'Unknown ResilienceModule option "circuitBreaker". Did you mean "circuitBreakers"? ' +
        'Known options: defaults, timeouts, retries, circuitBreakers, rateLimits, bulkheads, globalRateLimits, ' +
        'store, coordination, idempotencyStore, chaos, lastKnownGoodStore, deadLetterStore, metrics, retryBudgets, ' +
        'loadShedding, latencySource',
    );
    expect(errorOf({ retrys: {} })).toMatch(/Did you mean "retries"\?/);
    expect(errorOf({ logging: true })).toMatch(/^Unknown ResilienceModule option "logging"\. Known options:/);
  });

  it('refuses a named configuration that is not an options object', () => {
    expect(errorOf({ timeouts: { gateway: 800 } })).toBe(
      'ResilienceModule option "timeouts.gateway" = 800 must be a timeout options object, e.g. { duration: 800 }, ' +
        'got the number 800',
    );
    expect(errorOf({ retries: { payments: '3' } })).toMatch(
      /"retries\.payments" = "3" must be a retry options object.*got the string "3"$/,
    );
    expect(errorOf({ circuitBreakers: { payments: null } })).toMatch(/"circuitBreakers\.payments" = null .*got null$/);
    expect(errorOf({ rateLimits: [{ limit: 1 }] })).toMatch(
      /"rateLimits" = \[.*\] must map names to rate limit options.*got an array$/,
    );
    expect(errorOf({ bulkheads: 'db' })).toMatch(/"bulkheads" = "db" must map names to bulkhead options/);
  });

  it('refuses defaults entries that are not objects, and unknown defaults keys', () => {
    expect(errorOf({ defaults: { retry: 3 } })).toBe(
      'ResilienceModule option "defaults.retry" = 3 must be retry options (an object), got the number 3',
    );
    expect(errorOf({ defaults: { retries: {} } })).toMatch(
      /Unknown ResilienceModule option "defaults\.retries"\. Did you mean "retry"\?/,
    );
    expect(errorOf({ defaults: [] })).toMatch(/"defaults" = \[\] must be an object .*got an array$/);
  });

  it('refuses a store that is not a store', () => {
    expect(errorOf({ store: 'redis://localhost:6379' })).toBe(
      'ResilienceModule option "store" = "redis://localhost:6379" must be a rate-limit store, got a string: ' +
        'for Redis write store: new RedisStore({ url: "redis://localhost:6379" }) ' +
        `(import { RedisStore } from 'nest-resilience/redis')`,
    );
    expect(errorOf({ store: { url: 'redis://x' } })).toMatch(
      /"store" is not a rate-limit store: its "consume" must be a method, got undefined/,
    );
    expect(errorOf({ store: 42 })).toMatch(/got the number 42$/);
    expect(errorOf({ store: { consume: () => ({}), close: true } })).toMatch(
      /its "close" must be a method when given, got the boolean true/,
    );
    expect(errorOf({ store: { consume: () => ({}), coordinator: { join: () => undefined } } })).toMatch(
      /the "coordinator" of option "store" is not a CircuitCoordinator: it lacks the method\(s\) publishOpen, acquire/,
    );
  });
});

describe('validateModuleOptions: coordination', () => {
  const coordinator = {
    join() {},
    publishOpen() {},
    acquireProbeLease: () => Promise.resolve(true),
    releaseProbeLease() {},
  };

  it('accepts a coordination that brings a coordinator (a RedisStore, or your own)', () => {
    expect(() => validateModuleOptions({ coordination: { coordinator } })).not.toThrow();
  });

  it('refuses a coordination that is not one, naming what is missing', () => {
    expect(errorOf({ coordination: 'redis' })).toBe(
      'ResilienceModule option "coordination" must be a RedisStore or a BreakerCoordination, got the string "redis"',
    );
    expect(errorOf({ coordination: {} })).toBe(
      'ResilienceModule option "coordination" has no "coordinator": give a RedisStore or a BreakerCoordination',
    );
    expect(errorOf({ coordination: { coordinator: { join() {} } } })).toBe(
      'ResilienceModule option "coordination": its "coordinator" is not a CircuitCoordinator: it lacks the method(s) ' +
        'publishOpen, acquireProbeLease, releaseProbeLease',
    );
  });

  it('refuses an idempotencyStore that is not one, naming what is missing', () => {
    expect(errorOf({ idempotencyStore: 'redis://localhost' })).toBe(
      'ResilienceModule option "idempotencyStore" = "redis://localhost" must be an IdempotencyStore ' +
        '(MemoryIdempotencyStore, redisStore.idempotency, or your own), got the string "redis://localhost" ' +
        'lacking acquire, complete, release, get',
    );
    expect(errorOf({ idempotencyStore: { acquire() {}, get() {} } })).toMatch(
      /got an object lacking complete, release$/,
    );
  });
});
