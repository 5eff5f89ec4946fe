import {
  DEFAULT_BULKHEAD_OPTIONS,
  validateBulkheadOptions,
  type BulkheadOptions,
} from '../../core/bulkhead/bulkhead-options.js';
import {
  DEFAULT_RATE_LIMIT_OPTIONS,
  validateRateLimitOptions,
  type RateLimitOptions,
} from '../../core/rate-limit/rate-limit-options.js';
import {
  DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  validateCircuitBreakerOptions,
  type CircuitBreakerOptions,
} from '../../core/circuit-breaker/circuit-breaker-options.js';
import { DEFAULT_RETRY_OPTIONS, validateRetryOptions, type RetryOptions } from '../../core/retry/retry-options.js';
import {
  DEFAULT_TIMEOUT_OPTIONS,
  validateTimeoutOptions,
  type TimeoutOptions,
} from '../../core/timeout/timeout-options.js';
import type { OptionsValidator } from '../../core/validation/options-validator.js';
import type { ResilienceModuleOptions } from '../module/resilience-module.options.js';

/** Everything the resolver needs to know about one configurable policy kind. */
export interface PolicyKind<TOptions> {
  /** Word used in messages, e.g. `retry`. */
  readonly label: string;
  /** The decorator, e.g. `@Retry`. */
  readonly decorator: string;
  /** Key of the named configurations in the module options, e.g. `retries`. */
  readonly configKey: 'timeouts' | 'retries' | 'circuitBreakers' | 'bulkheads' | 'rateLimits';
  /** Key of the module-wide defaults, e.g. `retry`. */
  readonly defaultsKey: 'timeout' | 'retry' | 'circuitBreaker' | 'bulkhead' | 'rateLimit';
  /** Library defaults. */
  readonly libraryDefaults: TOptions;
  /** Throws a configuration error naming the bad option. */
  readonly validate: (options: TOptions, validator: OptionsValidator) => void;
}

export const TIMEOUT_KIND: PolicyKind<TimeoutOptions> = {
  label: 'timeout',
  decorator: '@Timeout',
  configKey: 'timeouts',
  defaultsKey: 'timeout',
  libraryDefaults: DEFAULT_TIMEOUT_OPTIONS,
  validate: validateTimeoutOptions,
};

export const RETRY_KIND: PolicyKind<RetryOptions> = {
  label: 'retry',
  decorator: '@Retry',
  configKey: 'retries',
  defaultsKey: 'retry',
  libraryDefaults: DEFAULT_RETRY_OPTIONS,
  validate: validateRetryOptions,
};

export const CIRCUIT_BREAKER_KIND: PolicyKind<CircuitBreakerOptions> = {
  label: 'circuit breaker',
  decorator: '@CircuitBreaker',
  configKey: 'circuitBreakers',
  defaultsKey: 'circuitBreaker',
  libraryDefaults: DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  validate: validateCircuitBreakerOptions,
};

export const BULKHEAD_KIND: PolicyKind<BulkheadOptions> = {
  label: 'bulkhead',
  decorator: '@Bulkhead',
  configKey: 'bulkheads',
  defaultsKey: 'bulkhead',
  libraryDefaults: DEFAULT_BULKHEAD_OPTIONS,
  validate: validateBulkheadOptions,
};

export const RATE_LIMIT_KIND: PolicyKind<RateLimitOptions> = {
  label: 'rate limit',
  decorator: '@RateLimit',
  configKey: 'rateLimits',
  defaultsKey: 'rateLimit',
  libraryDefaults: DEFAULT_RATE_LIMIT_OPTIONS,
  validate: validateRateLimitOptions,
};

/** Every configurable kind, for validating all named configurations at startup. */
export const CONFIGURABLE_KINDS = [
  TIMEOUT_KIND,
  RETRY_KIND,
  CIRCUIT_BREAKER_KIND,
  BULKHEAD_KIND,
  RATE_LIMIT_KIND,
] as PolicyKind<object>[];

/** The named configurations of `kind` in the module options. */
export function namedConfigurations<TOptions>(
  options: ResilienceModuleOptions,
  kind: PolicyKind<TOptions>,
): Record<string, Partial<TOptions>> {
  return (options[kind.configKey] ?? {}) as Record<string, Partial<TOptions>>;
}

/** The module-wide defaults of `kind`. */
export function moduleDefaults<TOptions>(
  options: ResilienceModuleOptions,
  kind: PolicyKind<TOptions>,
): Partial<TOptions> {
  return (options.defaults?.[kind.defaultsKey] ?? {}) as Partial<TOptions>;
}
