export * from './errors/index.js';
export type {
  FallbackEvent,
  PolicyTarget,
  ResilienceEvent,
  ResilienceEventListener,
  RetryEvent,
  TimeoutEvent,
} from './events/resilience-event.interface.js';
export { ResilienceEvents } from './events/resilience-events.js';
export type { FallbackFunction, FallbackOptions } from './fallback/fallback-options.js';
export { getTimeoutSignal } from './pipeline/invocation.js';
export type { BackoffKind, ErrorClass, JitterKind, RetryOptions } from './retry/retry-options.js';
export { DEFAULT_RETRY_OPTIONS } from './retry/retry-options.js';
export { httpStatusOf, isTransientError, retryAfterOf } from './retry/http-status.js';
export { backoffDelay } from './retry/backoff.js';
export type { TimeoutOptions } from './timeout/timeout-options.js';
export { DEFAULT_TIMEOUT_OPTIONS } from './timeout/timeout-options.js';
