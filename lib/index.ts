/*
 * The public surface of `nest-resilience`, in one list. State and collection classes are exported as types: users
 * read them through `ResilienceRegistry`, never construct them. The interceptor and guards the decorators attach,
 * the module options token and internal helpers are not exported. test/types/public-api.test-d.ts lists every name
 * below (an accidental export fails it) and docs/reference.md, "Exports", every runtime value.
 */

// Module and its options
export { ResilienceModule } from './nest/module/resilience.module.js';
export type { LoadSheddingModuleOptions } from './nest/options/resilience-module.options.js';
export type { ResilienceModuleOptions, ResiliencePolicyDefaults } from './nest/module/resilience-module.options.js';

// Decorators, and what a decorated method reads while it runs
export {
  Timeout,
  /** `@Timeout` under a name that does not clash with `@Timeout` of `@nestjs/schedule`. */
  Timeout as ResilienceTimeout,
} from './decorators/timeout.decorator.js';
export { TimeoutSignal } from './decorators/timeout-signal.decorator.js';
export { Retry } from './decorators/retry.decorator.js';
export { CircuitBreaker } from './decorators/circuit-breaker.decorator.js';
export { Bulkhead } from './decorators/bulkhead.decorator.js';
export { Fallback } from './decorators/fallback.decorator.js';
export { RateLimit, SkipRateLimit } from './decorators/rate-limit.decorator.js';
export { Idempotent } from './decorators/idempotent.decorator.js';
export { Hedge } from './decorators/hedge.decorator.js';
export { DeadLetter } from './decorators/dead-letter.decorator.js';
export { Priority, SkipLoadShedding } from './decorators/priority.decorator.js';
export { getIdempotencyKey, getTimeoutSignal } from './core/pipeline/invocation.js';

// Service: pipelines without decorators, and a caller's own cancellation
export { ResilienceService } from './nest/service/resilience.service.js';
export type { ExecuteOptions, ResiliencePipeline } from './nest/service/resilience.pipeline.js';
export type { ResiliencePipelineOptions } from './nest/service/resilience-pipeline.options.js';
export { withSignal } from './core/pipeline/caller-signal.js';

// Errors, and what reads them
export { ResilienceError, type ResilienceErrorCode } from './core/errors/resilience.error.js';
export {
  TimeoutError,
  /** `TimeoutError` under a name that does not clash with RxJS's `TimeoutError`. */
  TimeoutError as ResilienceTimeoutError,
} from './core/errors/timeout.error.js';
export { BrokenCircuitError } from './core/errors/broken-circuit.error.js';
export { BulkheadRejectedError } from './core/errors/bulkhead-rejected.error.js';
export { RateLimitExceededError } from './core/errors/rate-limit-exceeded.error.js';
export { LoadShedError } from './core/errors/load-shed.error.js';
export { HedgeLostError } from './core/hedge/hedge.policy.js';
export { ChaosFaultError } from './core/errors/chaos-fault.error.js';
export { CallAbortedError } from './core/errors/call-aborted.error.js';
export { ResilienceConfigError } from './core/errors/resilience-config.error.js';
export { UnknownPolicyError } from './core/errors/unknown-policy.error.js';
export {
  IdempotencyBodyUnreadError,
  IdempotencyKeyError,
  IdempotencyKeyInFlightError,
  IdempotencyKeyInvalidError,
  IdempotencyKeyMismatchError,
  IdempotencyKeyMissingError,
  IdempotencyStoreUnavailableError,
} from './core/errors/idempotency-key.error.js';
export { InvalidKeyError } from './core/errors/invalid-key.error.js';
export { httpStatusOf, isTransientError, retryAfterOf } from './core/errors/error-classification.js';
export { retryBudgetExhaustedOf } from './core/retry/retry-budget-exhausted.js';
export { toHttpAnswer, type HttpAnswer } from './nest/errors/http-error.mapper.js';

// Events
export { ResilienceEvents } from './core/events/resilience-events.js';
export type {
  ResilienceEvent,
  ResilienceEventListener,
  ResilienceEventOf,
  ResilienceEventType,
} from './core/events/resilience-event.interface.js';

// Registry views: the named state, read like maps (types: users read them, never construct them)
export { ResilienceRegistry } from './core/registry/resilience-registry.js';
export type { CircuitBreakers, NamedPolicies } from './core/registry/named-policies.js';
export type { ChaosExperiments } from './core/chaos/chaos-experiments.js';
export type { DeadLetterQueues } from './core/registry/dead-letter-queues.js';
export type { CircuitBreakerState } from './core/circuit-breaker/circuit-breaker.state.js';
export type { CircuitBreakerSnapshot } from './core/circuit-breaker/circuit-breaker.snapshot.js';
export type { BulkheadSnapshot, BulkheadState } from './core/bulkhead/bulkhead.state.js';
export type { RateLimitSnapshot, RateLimitState } from './core/rate-limit/rate-limit.state.js';
export type { RetryBudgetSnapshot, RetryBudgetState } from './core/retry/retry-budget.state.js';
export type { IdempotencySnapshot, IdempotencyStats } from './core/idempotency/idempotency-stats.js';
export type { ChaosSnapshot, ChaosState } from './core/chaos/chaos.state.js';
export type { LastKnownGoodSnapshot, LastKnownGoodState } from './core/fallback/last-known-good.state.js';
export type { DeadLetterQueue, DeadLetterQueueSnapshot } from './core/dead-letter/dead-letter.queue.js';
export type { TargetMetrics } from './core/metrics/target-metrics.js';
export type { TargetSnapshot } from './core/metrics/target-metrics.state.js';
// A provider (inject it, or `app.get(LoadShedderState)`) while `loadShedding` is on, so a value.
export { LoadShedderState, type LoadSheddingSnapshot } from './core/load-shedding/load-shedder.state.js';

// Stores: the memory defaults, and the interfaces a store of your own implements
export { MemoryRateLimitStore } from './core/rate-limit/memory-rate-limit.store.js';
export { MemoryIdempotencyStore } from './core/idempotency/memory-idempotency.store.js';
export { MemoryLastKnownGoodStore } from './core/fallback/memory-last-known-good.store.js';
export { MemoryDeadLetterStore } from './core/dead-letter/memory-dead-letter.store.js';
export type {
  RateLimitDecision,
  RateLimitRequest,
  RateLimitStore,
  TokenBucketRule,
} from './core/rate-limit/rate-limit-store.interface.js';
export type {
  IdempotencyAcquireResult,
  IdempotencyRecord,
  IdempotencyStore,
} from './core/idempotency/idempotency-store.interface.js';
export type { LastKnownGoodStore, RememberedAnswer } from './core/fallback/last-known-good-store.interface.js';
export type { DeadLetter as DeadLetterRecord, DeadLetterStore } from './core/dead-letter/dead-letter.interface.js';
export type { BreakerCoordination } from './core/circuit-breaker/circuit-coordinator.interface.js';
export type { LoadSample, LoadSampler } from './core/load-shedding/load-sampler.interface.js';
export type { LatencySource } from './core/hedge/latency-source.interface.js';

// Option types of the decorators and the module options
export type { TimeoutOptions } from './core/timeout/timeout.options.js';
export type { RetryOptions } from './core/retry/retry.options.js';
export type { RetryBudgetOptions } from './core/retry/retry-budget.options.js';
export type { CircuitBreakerOptions } from './core/circuit-breaker/circuit-breaker.options.js';
export type { BulkheadOptions } from './core/bulkhead/bulkhead.options.js';
export type { RateLimitOptions } from './core/rate-limit/rate-limit.options.js';
export type { HandlerRateLimitOptions, ProviderRateLimitOptions } from './decorators/rate-limit.decorator.js';
export type { FallbackOptions } from './core/fallback/fallback.options.js';
export type { FallbackStep } from './decorators/fallback.decorator.js';
export type { LastKnownGoodOptions } from './core/fallback/last-known-good.options.js';
export type { IdempotencyOptions } from './core/idempotency/idempotency.options.js';
export type { HandlerIdempotentOptions, ProviderIdempotentOptions } from './decorators/idempotent.decorator.js';
export type { HedgeOptions } from './core/hedge/hedge.options.js';
export type { DeadLetterOptions } from './core/dead-letter/dead-letter.options.js';
export type { ChaosOptions } from './core/chaos/chaos.options.js';
export type { LoadSheddingOptions } from './core/load-shedding/load-shedding.options.js';
