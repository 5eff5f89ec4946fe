import { describe, expect, it } from 'vitest';
import { ResilienceConfigError } from '../../lib/index.js';
import { DEFAULT_BULKHEAD_OPTIONS } from '../../lib/core/bulkhead/bulkhead.options.js';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from '../../lib/core/circuit-breaker/circuit-breaker.options.js';
import { DEFAULT_RATE_LIMIT_OPTIONS } from '../../lib/core/rate-limit/rate-limit.options.js';
import { DEFAULT_RETRY_OPTIONS } from '../../lib/core/retry/retry.options.js';
import { DEFAULT_TIMEOUT_OPTIONS } from '../../lib/core/timeout/timeout.options.js';
import { validateBulkheadOptions } from '../../lib/core/bulkhead/bulkhead.options.js';
import { validateCircuitBreakerOptions } from '../../lib/core/circuit-breaker/circuit-breaker.options.js';
import { validateRateLimitOptions } from '../../lib/core/rate-limit/rate-limit.options.js';
import { validateRetryOptions } from '../../lib/core/retry/retry.options.js';
import { validateTimeoutOptions } from '../../lib/core/timeout/timeout.options.js';
import { closestName, editDistance } from '../../lib/core/validation/did-you-mean.js';
import { OptionsValidator } from '../../lib/core/validation/options.validator.js';

const validator = (kind: string) => new OptionsValidator(kind, 'payments', 'Gateway.charge');

const timeout = (options: object) =>
  validateTimeoutOptions({ ...DEFAULT_TIMEOUT_OPTIONS, ...options }, validator('timeout'));
const retry = (options: object) => validateRetryOptions({ ...DEFAULT_RETRY_OPTIONS, ...options }, validator('retry'));
const breaker = (options: object) =>
  validateCircuitBreakerOptions({ ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, ...options }, validator('circuit breaker'));
const bulkhead = (options: object) =>
  validateBulkheadOptions({ ...DEFAULT_BULKHEAD_OPTIONS, ...options }, validator('bulkhead'));
const rateLimit = (options: object) =>
  validateRateLimitOptions({ ...DEFAULT_RATE_LIMIT_OPTIONS, ...options }, validator('rate limit'));

/** The message of the configuration error `run` throws (fails the test if it throws anything else or nothing). */
function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ResilienceConfigError);
    expect(error).toMatchObject({ code: 'INVALID_CONFIGURATION', policy: 'payments' });
    return (error as Error).message;
  }
  throw new Error('no error thrown');
}

describe('option validation', () => {
  describe('a count window that can never reach minimumCalls', () => {
    it('is refused, naming both options and what to change', () => {
      expect(errorOf(() => breaker({ windowSize: 10 }))).toBe(
        'Invalid circuit breaker option "minimumCalls" = 20 for policy "payments" (declared on Gateway.charge): ' +
          'must be at most windowSize (10): a count window holds at most 10 calls, so the breaker could never open. ' +
          'Set minimumCalls to 10 or less, or windowSize to 20 or more',
      );
    });

    it('is refused against the default window size too', () => {
      expect(errorOf(() => breaker({ minimumCalls: 150 }))).toMatch(/must be at most windowSize \(100, the default\)/);
    });

    it('accepts minimumCalls equal to the window size', () => {
      expect(breaker({ windowSize: 10, minimumCalls: 10 })).toMatchObject({ windowSize: 10, minimumCalls: 10 });
    });

    it('accepts any minimumCalls with a time window (a traffic requirement, not a capacity)', () => {
      expect(breaker({ window: 'time', windowSize: 10, minimumCalls: 500 }).minimumCalls).toBe(500);
    });

    it('refuses a time window longer than an hour, suspecting milliseconds', () => {
      expect(errorOf(() => breaker({ window: 'time', windowSize: 60_000 }))).toMatch(
        /"windowSize" = 60000 .*in seconds, at most 3600 \(one hour\); was it meant in milliseconds \(60 s\)\?/,
      );
    });
  });

  describe('durations beyond what a Node timer holds', () => {
    const tooLong = 2 ** 31;
    it.each([
      ['timeout', 'duration', () => timeout({ duration: tooLong })],
      ['timeout', 'total', () => timeout({ total: tooLong })],
      ['retry', 'initialDelay', () => retry({ initialDelay: tooLong, maxDelay: tooLong })],
      ['retry', 'maxDelay', () => retry({ maxDelay: tooLong })],
      ['circuit breaker', 'openDuration', () => breaker({ openDuration: tooLong })],
      ['circuit breaker', 'maxOpenDuration', () => breaker({ maxOpenDuration: tooLong })],
      ['circuit breaker', 'slowCallDuration', () => breaker({ slowCallDuration: tooLong })],
      ['bulkhead', 'maxWait', () => bulkhead({ maxWait: tooLong })],
      ['rate limit', 'interval', () => rateLimit({ interval: tooLong })],
      ['rate limit', 'maxWait', () => rateLimit({ maxWait: tooLong })],
    ])('refuses a %s %s of 2^31 ms, naming the option, the value and the bound', (kind, option, run) => {
      expect(errorOf(run)).toBe(
        `Invalid ${kind} option "${option}" = ${tooLong} for policy "payments" (declared on Gateway.charge): ` +
          'must be at most 2147483647 ms (2^31 - 1, about 24.8 days: the longest delay a Node.js timer holds)',
      );
    });

    it('accepts exactly 2^31 - 1 ms', () => {
      expect(timeout({ duration: 2 ** 31 - 1 }).duration).toBe(2 ** 31 - 1);
    });
  });

  describe('values from ConfigService (strings)', () => {
    it('converts numeric strings and returns the normalized options', () => {
      expect(retry({ maxAttempts: '3', initialDelay: ' 250 ', maxDelay: '1e4', multiplier: '1.5' })).toMatchObject({
        maxAttempts: 3,
        initialDelay: 250,
        maxDelay: 10_000,
        multiplier: 1.5,
      });
      expect(timeout({ duration: '800', total: '2000' })).toEqual({ duration: 800, total: 2000 });
      expect(
        breaker({ minimumCalls: '10', windowSize: '10', failureRateThreshold: '25', critical: 'true' }),
      ).toMatchObject({
        minimumCalls: 10,
        windowSize: 10,
        failureRateThreshold: 25,
        critical: true,
      });
      expect(bulkhead({ maxConcurrent: '4', maxQueue: '8', maxWait: '100' })).toMatchObject({
        maxConcurrent: 4,
        maxQueue: 8,
        maxWait: 100,
      });
      expect(rateLimit({ limit: '10', interval: '1000', burst: '20', legacyHeaders: 'false' })).toMatchObject({
        limit: 10,
        interval: 1000,
        burst: 20,
        legacyHeaders: false,
      });
    });

    it('refuses legacy headers without the standard ones, naming both options', () => {
      expect(rateLimit({ headers: 'false' })).toMatchObject({ headers: false, legacyHeaders: false });
      expect(errorOf(() => rateLimit({ headers: false, legacyHeaders: true }))).toMatch(
        /"legacyHeaders" = true .*needs headers: true/,
      );
    });

    it('checks the converted value against the rule', () => {
      expect(errorOf(() => retry({ maxAttempts: '0' }))).toMatch(/"maxAttempts" = "0" .*must be an integer >= 1$/);
      expect(errorOf(() => retry({ initialDelay: '500', maxDelay: '100' }))).toMatch(/must be >= initialDelay \(500\)/);
    });

    it.each([
      [() => retry({ maxAttempts: 'abc' }), /"maxAttempts" = "abc" .*must be an integer >= 1, got the string "abc"$/],
      [() => retry({ maxAttempts: '' }), /must be an integer >= 1, got an empty string$/],
      [() => retry({ maxAttempts: { value: 3 } }), /"maxAttempts" = \{"value":3\} .*, got an object$/],
      [() => retry({ maxAttempts: [3] }), /, got an array$/],
      [() => retry({ maxAttempts: null }), /, got null$/],
      [() => retry({ maxAttempts: true }), /, got the boolean true$/],
      [() => timeout({ duration: '10s' }), /"duration" = "10s" .*greater than 0, got the string "10s"$/],
      [() => retry({ retryIf: 'yes' }), /"retryIf" = "yes" .*must be a function, got the string "yes"$/],
      [
        () => retry({ retryErrors: [Error, 'TypeError'] }),
        /must be an array of error classes, got an array holding the string "TypeError"$/,
      ],
      [() => breaker({ critical: 'yes' }), /"critical" = "yes" .*must be a boolean, got the string "yes"$/],
      [() => rateLimit({ key: 42 }), /"key" = 42 .*must be "global", "ip" or a function, got the number 42$/],
      [() => retry({ backoff: 2 }), /must be one of "constant", "linear", "exponential", got the number 2$/],
      [
        () => retry({ backoff: 'exponentail' }),
        /must be one of "constant", "linear", "exponential"\. Did you mean "exponential"\?$/,
      ],
    ])('names the type received (%#)', (run, message) => {
      expect(errorOf(run)).toMatch(message);
    });
  });

  describe('adaptive timeout', () => {
    it('applies the defaults (max: the duration) and converts numeric strings', () => {
      expect(timeout({ duration: 800, adaptive: {} }).adaptive).toEqual({
        percentile: 99,
        margin: 0,
        min: 1,
        max: 800,
        minSamples: 20,
        window: 60_000,
      });
      expect(timeout({ adaptive: { percentile: '95', margin: '50', min: '100', max: '2000' } }).adaptive).toMatchObject(
        { percentile: 95, margin: 50, min: 100, max: 2000 },
      );
    });

    it.each([
      [{ adaptive: true }, /"adaptive" = true .*must be an object such as \{ percentile: 99.*, got the boolean true$/],
      [{ adaptive: { percentile: 0 } }, /"adaptive.percentile" = 0 .*must be a number above 0, at most 100$/],
      [{ adaptive: { percentile: 100.5 } }, /"adaptive.percentile" = 100.5 /],
      [{ adaptive: { percentile: 'p99' } }, /"adaptive.percentile" = "p99" .*, got the string "p99"$/],
      [{ adaptive: { margin: -1 } }, /"adaptive.margin" = -1 .*>= 0$/],
      [{ adaptive: { min: 500, max: 200 } }, /"adaptive.min" = 500 .*must be at most adaptive.max \(200 ms\)$/],
      [{ adaptive: { max: 2 ** 31 } }, /"adaptive.max" = 2147483648 .*at most 2147483647 ms/],
      [{ adaptive: { minSamples: 0.5 } }, /"adaptive.minSamples" = 0.5 .*must be an integer >= 1$/],
      [
        { adaptive: { percentil: 99 } },
        /Unknown timeout option "adaptive.percentil" .*Did you mean "adaptive.percentile"\?/,
      ],
    ])('refuses %j naming the option, the value and the rule', (options, message) => {
      expect(errorOf(() => timeout(options))).toMatch(message);
    });
  });

  describe('unknown option names', () => {
    it('are refused with "did you mean" when a close name exists', () => {
      expect(errorOf(() => retry({ maxAtempts: 5 }))).toBe(
        'Unknown retry option "maxAtempts" for policy "payments" (declared on Gateway.charge). ' +
          'Did you mean "maxAttempts"? ' +
          'Known options: maxAttempts, backoff, initialDelay, maxDelay, multiplier, jitter, retryIf, retryOnResult, ' +
          'retryErrors, ignoreErrors, retryNonIdempotent, budget',
      );
      expect(errorOf(() => breaker({ failureThreshold: 50 }))).toMatch(/Did you mean "failureRateThreshold"\?/);
      expect(errorOf(() => timeout({ Duration: 5 }))).toMatch(/Did you mean "duration"\?/);
      expect(errorOf(() => bulkhead({ maxConcurrency: 5 }))).toMatch(/Did you mean "maxConcurrent"\?/);
      expect(errorOf(() => rateLimit({ limits: 5 }))).toMatch(/Did you mean "limit"\?/);
    });

    it('are refused without a guess when nothing is close', () => {
      const message = errorOf(() => timeout({ colour: 'blue' }));
      expect(message).toMatch(/^Unknown timeout option "colour" .*\(declared on Gateway\.charge\)\. Known options: /);
      expect(message).toMatch(/Known options: duration, total, adaptive$/);
    });

    it('suggests by edit distance, swaps counting as one edit', () => {
      expect(editDistance('maxAtempts', 'maxAttempts')).toBe(1);
      expect(editDistance('mxaAttempts', 'maxAttempts')).toBe(1);
      expect(closestName('jiter', ['jitter', 'backoff'])).toBe('jitter');
      expect(closestName('zzz', ['jitter', 'backoff'])).toBeUndefined();
    });
  });

  describe('rate thresholds are percentages', () => {
    it('refuses a value below 1 as a likely fraction, saying how to write either meaning', () => {
      expect(errorOf(() => breaker({ failureRateThreshold: 0.5 }))).toBe(
        'Invalid circuit breaker option "failureRateThreshold" = 0.5 for policy "payments" ' +
          '(declared on Gateway.charge): ' +
          "is a percentage (50 means 50%), and 0.5 looks like a fraction: write 50 for 50%, or the string '0.5%' " +
          'if you mean 0.5 percent',
      );
      expect(errorOf(() => breaker({ slowCallRateThreshold: '0.8' }))).toMatch(/write 80 for 80%/);
    });

    it("accepts a rate below 1% written with a percent sign ('0.5%')", () => {
      expect(breaker({ failureRateThreshold: '0.5%', slowCallRateThreshold: '20%' })).toMatchObject({
        failureRateThreshold: 0.5,
        slowCallRateThreshold: 20,
      });
    });

    it('keeps the range rule for 0 and above 100, with or without a percent sign', () => {
      expect(errorOf(() => breaker({ failureRateThreshold: 0 }))).toMatch(
        /must be a percentage greater than 0 and at most 100$/,
      );
      expect(errorOf(() => breaker({ failureRateThreshold: '150%' }))).toMatch(/at most 100$/);
      expect(errorOf(() => breaker({ failureRateThreshold: 'half' }))).toMatch(/at most 100, got the string "half"$/);
    });
  });

  describe('library defaults', () => {
    it.each([
      ['DEFAULT_TIMEOUT_OPTIONS', DEFAULT_TIMEOUT_OPTIONS, 'duration'],
      ['DEFAULT_RETRY_OPTIONS', DEFAULT_RETRY_OPTIONS, 'maxAttempts'],
      ['DEFAULT_CIRCUIT_BREAKER_OPTIONS', DEFAULT_CIRCUIT_BREAKER_OPTIONS, 'minimumCalls'],
      ['DEFAULT_BULKHEAD_OPTIONS', DEFAULT_BULKHEAD_OPTIONS, 'maxConcurrent'],
      ['DEFAULT_RATE_LIMIT_OPTIONS', DEFAULT_RATE_LIMIT_OPTIONS, 'limit'],
    ])('%s cannot be changed by user code', (_name, defaults, option) => {
      const before = { ...defaults };
      const writable = defaults as Record<string, unknown>;
      expect(() => {
        writable[option] = 1;
      }).toThrow(TypeError); // ES modules are strict: writing a frozen object throws
      expect(() => {
        writable.added = 1;
      }).toThrow(TypeError);
      expect(() => delete writable[option]).toThrow(TypeError);
      expect(Object.isFrozen(defaults)).toBe(true);
      expect(defaults).toEqual(before);
    });

    it('are themselves valid', () => {
      expect(() => timeout({})).not.toThrow();
      expect(() => retry({})).not.toThrow();
      expect(() => breaker({})).not.toThrow();
      expect(() => bulkhead({})).not.toThrow();
      expect(() => rateLimit({})).not.toThrow();
    });
  });

  describe('an options object given as something else', () => {
    it.each([
      [null, 'null'],
      [[{ maxKeys: 10 }], 'an array'],
      ['maxKeys=10', 'the string "maxKeys=10"'],
    ])('is refused naming the shape expected and the type received: %j', (given, type) => {
      const check = () => validator('store').objectOptions('options', given, '{ maxKeys: 100_000 }', ['maxKeys']);
      expect(check).toThrow(ResilienceConfigError);
      expect(check).toThrow(`must be an object such as { maxKeys: 100_000 }, got ${type}`);
    });

    it('then refuses an unknown option name, with the closest known one', () => {
      expect(() => validator('store').objectOptions('options', { maxKey: 10 }, undefined, ['maxKeys'])).toThrow(
        /Unknown store option "maxKey".*Did you mean "maxKeys"\?/,
      );
      expect(() => validator('store').objectOptions('options', { maxKeys: 10 }, undefined, ['maxKeys'])).not.toThrow();
    });
  });
});
