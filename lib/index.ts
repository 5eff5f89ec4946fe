export * from './core/index.js';
export { Bulkhead } from './decorators/bulkhead.decorator.js';
export { CircuitBreaker } from './decorators/circuit-breaker.decorator.js';
export {
  RateLimit,
  SkipRateLimit,
  type HandlerRateLimitOptions,
  type ProviderRateLimitOptions,
} from './decorators/rate-limit.decorator.js';
export { ClassRateLimitGuard, RateLimitGuard } from './nest/handlers/rate-limit.guard.js';
export type { HandlerRateLimitKey } from './decorators/resilience.metadata.js';
export { ResilienceInterceptor } from './nest/handlers/resilience.interceptor.js';
export { GraphQLResilienceError, type ResilienceErrorPayload } from './nest/errors/transport-errors.js';
export { Fallback, type FallbackStep, type FallbackValueOptions } from './decorators/fallback.decorator.js';
export { Retry } from './decorators/retry.decorator.js';
export { DeadLetter } from './decorators/dead-letter.decorator.js';
export {
  Idempotent,
  type HandlerIdempotentOptions,
  type ProviderIdempotentOptions,
} from './decorators/idempotent.decorator.js';
export { Hedge } from './decorators/hedge.decorator.js';
export { Priority, SkipLoadShedding } from './decorators/priority.decorator.js';
export {
  Timeout,
  /** `@Timeout` under a name that does not clash with `@Timeout` of `@nestjs/schedule`. */
  Timeout as ResilienceTimeout,
} from './decorators/timeout.decorator.js';
/** `TimeoutError` under a name that does not clash with RxJS's `TimeoutError`. */
export { TimeoutError as ResilienceTimeoutError } from './core/errors/timeout.error.js';
export { TimeoutSignal } from './decorators/timeout-signal.decorator.js';
export { ResilienceExceptionFilter } from './nest/errors/resilience-exception.filter.js';
export { toHttpAnswer, type HttpAnswer } from './nest/errors/http-error.mapper.js';
export { ResilienceModule } from './nest/module/resilience.module.js';
export { RESILIENCE_MODULE_OPTIONS } from './nest/options/resilience.module-definition.js';
export type { ResilienceModuleExtras } from './nest/options/resilience.module-definition.js';
export type {
  LoadSheddingModuleOptions,
  ResilienceModuleOptions,
  ResiliencePolicyDefaults,
} from './nest/options/resilience-module.options.js';
export { ResilienceService } from './nest/service/resilience.service.js';
export { ResiliencePipeline, type ExecuteOptions } from './nest/service/resilience.pipeline.js';
export type { PipelineAttempt } from './nest/service/pipeline-attempt.js';
export type {
  PipelineBulkheadOptions,
  PipelineFallback,
  PipelineRateLimitOptions,
  PolicyReference,
  ResiliencePipelineOptions,
} from './nest/service/resilience-pipeline.options.js';
