import type { OptionsValidator } from '../validation/options-validator.js';

/** How the breaker remembers recent outcomes. */
export type SlidingWindowKind = 'count' | 'time';

/** Options of `@CircuitBreaker`. */
export interface CircuitBreakerOptions {
  /** `count`: the last `windowSize` calls; `time`: the calls of the last `windowSize` seconds. Default `'count'`. */
  window: SlidingWindowKind;
  /** Calls (count window) or seconds (time window) remembered. Default `100` calls or `60` seconds. */
  windowSize?: number;
  /** Calls the window must hold before the rates are judged. Default `20`. */
  minimumCalls: number;
  /** Failure rate, in percent, at or above which the breaker opens. Default `50`. */
  failureRateThreshold: number;
  /** A call slower than this many milliseconds counts as slow. Default: none (slow calls are not tracked). */
  slowCallDuration?: number;
  /** Slow-call rate, in percent, at or above which the breaker opens. Default `100`. */
  slowCallRateThreshold: number;
  /**
   * Simple mode: open after this many failures in a row, ignoring the window rates. Default: none (rate mode).
   */
  consecutiveFailures?: number;
  /** Milliseconds the breaker stays open before letting probe calls through. Default `30_000`. */
  openDuration: number;
  /** Each failed probe multiplies the open duration by this. Default `1` (constant). */
  openDurationMultiplier: number;
  /** Upper bound of the growing open duration, in milliseconds. Default `300_000`. */
  maxOpenDuration: number;
  /** Probe calls let through while half-open; every other caller fails fast. All must succeed to close. Default `1`. */
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

/** Library defaults of `@CircuitBreaker`. */
export const DEFAULT_CIRCUIT_BREAKER_OPTIONS: CircuitBreakerOptions = {
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
};

/** The window size when none is given: 100 calls or 60 seconds. */
export function windowSizeOf(options: CircuitBreakerOptions): number {
  return options.windowSize ?? (options.window === 'time' ? 60 : 100);
}

/** Throws a clear configuration error when an option is invalid. */
export function validateCircuitBreakerOptions(options: CircuitBreakerOptions, validator: OptionsValidator): void {
  validator.oneOf('window', options.window, ['count', 'time']);
  if (options.windowSize !== undefined) validator.integerAtLeast('windowSize', options.windowSize, 1);
  validator.integerAtLeast('minimumCalls', options.minimumCalls, 1);
  percent(validator, 'failureRateThreshold', options.failureRateThreshold);
  percent(validator, 'slowCallRateThreshold', options.slowCallRateThreshold);
  if (options.slowCallDuration !== undefined) validator.positiveDuration('slowCallDuration', options.slowCallDuration);
  if (options.consecutiveFailures !== undefined) {
    validator.integerAtLeast('consecutiveFailures', options.consecutiveFailures, 1);
  }
  validator.positiveDuration('openDuration', options.openDuration);
  validator.numberAtLeast('openDurationMultiplier', options.openDurationMultiplier, 1);
  validator.positiveDuration('maxOpenDuration', options.maxOpenDuration);
  if (options.maxOpenDuration < options.openDuration) {
    validator.fail('maxOpenDuration', options.maxOpenDuration, `must be >= openDuration (${options.openDuration})`);
  }
  validator.integerAtLeast('halfOpenMaxCalls', options.halfOpenMaxCalls, 1);
  validator.optionalFunction('recordIf', options.recordIf);
  validator.optionalFunction('ignoreIf', options.ignoreIf);
  if (typeof options.critical !== 'boolean') validator.fail('critical', options.critical, 'must be a boolean');
  validator.oneOf('coordination', options.coordination, ['local', 'redis']);
}

function percent(validator: OptionsValidator, option: string, value: unknown): void {
  if (typeof value !== 'number' || !(value > 0 && value <= 100)) {
    validator.fail(option, value, 'must be a percentage greater than 0 and at most 100');
  }
}
