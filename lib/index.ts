export * from './core/index.js';
export { Bulkhead } from './decorators/bulkhead.decorator.js';
export { CircuitBreaker } from './decorators/circuit-breaker.decorator.js';
export {
  RateLimit,
  SkipRateLimit,
  type HandlerRateLimitOptions,
  type ProviderRateLimitOptions,
} from './decorators/rate-limit.decorator.js';
export { ClassRateLimitGuard, RateLimitGuard } from './nest/rate-limit.guard.js';
export type { HandlerRateLimitKey } from './nest/handler-rate-limits.js';
export { ResilienceInterceptor } from './nest/resilience.interceptor.js';
export { GraphQLResilienceError, type ResilienceErrorPayload } from './nest/transport-errors.js';
export { Fallback, type FallbackValueOptions } from './decorators/fallback.decorator.js';
export { Retry } from './decorators/retry.decorator.js';
export { Timeout } from './decorators/timeout.decorator.js';
export { TimeoutSignal } from './decorators/timeout-signal.decorator.js';
export { ResilienceExceptionFilter } from './nest/resilience-exception.filter.js';
export { toHttpAnswer, type HttpAnswer } from './nest/http-error.mapper.js';
export { ResilienceModule } from './nest/resilience.module.js';
export { RESILIENCE_MODULE_OPTIONS } from './nest/resilience.module-definition.js';
export type { ResilienceModuleExtras } from './nest/resilience.module-definition.js';
export type {
  ResilienceModuleOptions,
  ResiliencePolicyDefaults,
} from './nest/resilience-module-options.interface.js';
