import { deepFreeze } from '../validation/deep-freeze.js';
import type { OptionsValidator } from '../validation/options.validator.js';
import { MAX_BREAKER_CALLS, MAX_COUNT_WINDOW, MAX_MINIMUM_CALLS } from '../validation/size-maxima.js';

/** How the breaker remembers recent outcomes. */
export type SlidingWindowKind = 'count' | 'time';

/** Options of `@CircuitBreaker`. */
export interface CircuitBreakerOptions {
  /** `count`: the last `windowSize` calls; `time`: the calls of the last `windowSize` seconds. Default `'count'`. */
  window: SlidingWindowKind;
  /**
   * Calls (count window, at most 10,000: one byte each per breaker) or seconds (time window, at most 3600)
   * remembered. A count window must hold at least `minimumCalls` calls. Default `100` calls or `60` seconds.
   */
  windowSize?: number;
  /**
   * Calls the window must hold before the rates are judged. With a count window, at most `windowSize` (else the
   * breaker could never open: refused at bootstrap). With a time window, the traffic needed in `windowSize` seconds,
   * at most 1,000,000. Default `20`.
   */
  minimumCalls: number;
  /**
   * Failure rate, in percent (`50` means 50%), at or above which the breaker opens. A number below 1 is refused as a
   * likely fraction (`0.5` meant as 50%); write a rate below 1% as a string with a percent sign: `'0.5%'`.
   * Default `50`.
   */
  failureRateThreshold: number | `${number}%`;
  /** A call slower than this many milliseconds counts as slow. Default: none (slow calls are not tracked). */
  slowCallDuration?: number;
  /**
   * Slow-call rate, in percent, at or above which the breaker opens; the same rules as `failureRateThreshold`. Default
   * `100`.
   */
  slowCallRateThreshold: number | `${number}%`;
  /**
   * Simple mode: open after this many failures in a row (at most 10,000), ignoring the window rates. Default: none
   * (rate mode).
   */
  consecutiveFailures?: number;
  /** Milliseconds the breaker stays open before letting probe calls through. Default `30_000`. */
  openDuration: number;
  /** Each failed probe multiplies the open duration by this. Default `1` (constant). */
  openDurationMultiplier: number;
  /** Upper bound of the growing open duration, in milliseconds. Default `300_000`. */
  maxOpenDuration: number;
  /**
   * Probe calls let through while half-open (at most 10,000); every other caller fails fast. All must succeed to
   * close. Default `1`.
   */
  halfOpenMaxCalls: number;
  /**
   * Which errors count as failures. Default: every error except HTTP 4xx answers (the caller's mistake, not the
   * downstream's). A timeout is a failure.
   */
  recordIf?: (error: unknown) => boolean;
  /** Errors that count as neither success nor failure (checked before `recordIf`). Default: none. */
  ignoreIf?: (error: unknown) => boolean;
  /** Report this breaker as `down` (not merely `degraded`) in health checks while it is open. Default `false`. */
  critical: boolean;
  /**
   * `redis`: share openings with the other replicas through the Redis store, and let only one replica at a time
   * probe while half-open. Decisions stay local; the hot path makes no network call while closed. Needs
   * `store: new RedisStore(...)` in the module options. Default `'local'`.
   */
  coordination: 'local' | 'redis';
}

/** Library defaults of `@CircuitBreaker` (frozen). */
export const DEFAULT_CIRCUIT_BREAKER_OPTIONS: Readonly<CircuitBreakerOptions> = deepFreeze({
  window: 'count',
  minimumCalls: 20,
  failureRateThreshold: 50,
  slowCallRateThreshold: 100,
  openDuration: 30_000,
  openDurationMultiplier: 1,
  maxOpenDuration: 300_000,
  halfOpenMaxCalls: 1,
  critical: false,
  coordination: 'local',
});

/**
 * The longest time window, in seconds: one bucket per second, and a breaker judging hours of calls reacts hours late.
 */
export const MAX_TIME_WINDOW_SECONDS = 3600;

/** Every option name of `@CircuitBreaker`, for refusing unknown ones; the mapped type keeps it complete. */
const CIRCUIT_BREAKER_OPTION_NAMES = Object.keys({
  window: true,
  windowSize: true,
  minimumCalls: true,
  failureRateThreshold: true,
  slowCallDuration: true,
  slowCallRateThreshold: true,
  consecutiveFailures: true,
  openDuration: true,
  openDurationMultiplier: true,
  maxOpenDuration: true,
  halfOpenMaxCalls: true,
  recordIf: true,
  ignoreIf: true,
  critical: true,
  coordination: true,
} satisfies Record<keyof CircuitBreakerOptions, true>);

/** The window size when none is given: 100 calls or 60 seconds. */
export function windowSizeOf(options: CircuitBreakerOptions): number {
  return options.windowSize ?? (options.window === 'time' ? 60 : 100);
}

/**
 * A rate threshold as a number of percent (validated options hold numbers only; `'0.5%'` becomes `0.5`).
 * @internal
 */
export function percentOf(threshold: number | `${number}%`): number {
  return typeof threshold === 'number' ? threshold : Number(threshold.slice(0, -1));
}

/**
 * Throws a clear configuration error when an option is invalid or unknown; returns the options with numeric strings
 * (as `ConfigService` gives them) converted to numbers, `'true'`/`'false'` to booleans and `'0.5%'` to `0.5`.
 */
export function validateCircuitBreakerOptions(
  options: CircuitBreakerOptions,
  validator: OptionsValidator,
): CircuitBreakerOptions {
  validator.knownOptions(options, CIRCUIT_BREAKER_OPTION_NAMES);
  const window = validator.oneOf('window', options.window, ['count', 'time']);
  const normalized: CircuitBreakerOptions = {
    ...options,
    window,
    minimumCalls: validator.boundedInteger('minimumCalls', options.minimumCalls, 1, MAX_MINIMUM_CALLS),
    failureRateThreshold: percent(validator, 'failureRateThreshold', options.failureRateThreshold),
    slowCallRateThreshold: percent(validator, 'slowCallRateThreshold', options.slowCallRateThreshold),
    openDuration: validator.positiveDuration('openDuration', options.openDuration),
    openDurationMultiplier: validator.numberAtLeast('openDurationMultiplier', options.openDurationMultiplier, 1),
    maxOpenDuration: validator.positiveDuration('maxOpenDuration', options.maxOpenDuration),
    halfOpenMaxCalls: validator.boundedInteger('halfOpenMaxCalls', options.halfOpenMaxCalls, 1, MAX_BREAKER_CALLS),
    critical: validator.boolean('critical', options.critical),
    coordination: validator.oneOf('coordination', options.coordination, ['local', 'redis']),
  };
  if (options.windowSize !== undefined) {
    normalized.windowSize = validator.integerAtLeast('windowSize', options.windowSize, 1);
    if (window === 'time' && normalized.windowSize > MAX_TIME_WINDOW_SECONDS) {
      validator.fail(
        'windowSize',
        options.windowSize,
        `a time window is given in seconds, at most ${MAX_TIME_WINDOW_SECONDS} (one hour); ` +
          `was it meant in milliseconds (${normalized.windowSize / 1000} s)?`,
      );
    }
    if (window === 'count') validator.boundedInteger('windowSize', options.windowSize, 1, MAX_COUNT_WINDOW);
  }
  // A count window never holds more than windowSize calls: with fewer than minimumCalls the rates are never judged
  // and the breaker never opens, however many calls fail. Refused rather than derived, so that the default
  // minimumCalls (20) does not silently change meaning under a small window.
  const size = windowSizeOf(normalized);
  if (window === 'count' && normalized.minimumCalls > size) {
    validator.fail(
      'minimumCalls',
      options.minimumCalls,
      `must be at most windowSize (${size}${normalized.windowSize === undefined ? ', the default' : ''}): a count ` +
        `window holds at most ${size} calls, so the breaker could never open. Set minimumCalls to ${size} or less, ` +
        `or windowSize to ${normalized.minimumCalls} or more`,
    );
  }
  if (options.slowCallDuration !== undefined) {
    normalized.slowCallDuration = validator.positiveDuration('slowCallDuration', options.slowCallDuration);
  }
  if (options.consecutiveFailures !== undefined) {
    normalized.consecutiveFailures = validator.boundedInteger(
      'consecutiveFailures',
      options.consecutiveFailures,
      1,
      MAX_BREAKER_CALLS,
    );
  }
  if (normalized.maxOpenDuration < normalized.openDuration) {
    validator.fail('maxOpenDuration', options.maxOpenDuration, `must be >= openDuration (${normalized.openDuration})`);
  }
  validator.optionalFunction('recordIf', options.recordIf);
  validator.optionalFunction('ignoreIf', options.ignoreIf);
  return normalized;
}

const PERCENT_STRING = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*%\s*$/;

/**
 * A percentage in (0, 100]. A number below 1 is most likely a fraction (0.5 meant as 50%, as other libraries take
 * it): refused unless written with a percent sign, `'0.5%'`, which shows the intent.
 */
function percent(validator: OptionsValidator, option: string, value: unknown): number {
  const rule = 'must be a percentage greater than 0 and at most 100';
  const written = typeof value === 'string' ? PERCENT_STRING.exec(value) : null;
  const rate = written ? Number(written[1]) : validator.number(option, value, rule);
  if (!(rate > 0 && rate <= 100)) validator.fail(option, value, rule);
  if (rate < 1 && !written) {
    validator.fail(
      option,
      value,
      `is a percentage (50 means 50%), and ${rate} looks like a fraction: write ${rate * 100} for ${rate * 100}%, ` +
        `or the string '${rate}%' if you mean ${rate} percent`,
    );
  }
  return rate;
}
