export type {
  AdaptiveLimitAlgorithm,
  AdaptiveLimitOptions,
  BulkheadOptions,
  PartitionKey,
} from './bulkhead/bulkhead.options.js';
export { DEFAULT_BULKHEAD_OPTIONS } from './bulkhead/bulkhead.options.js';
export type { BulkheadSnapshot } from './bulkhead/bulkhead.state.js';
export type { CircuitBreakerOptions, SlidingWindowKind } from './circuit-breaker/circuit-breaker.options.js';
export { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from './circuit-breaker/circuit-breaker.options.js';
export type {
  CircuitBreakerSnapshot,
  CircuitState,
  CircuitTransitionReason,
  SavedCircuitState,
} from './circuit-breaker/circuit-breaker.snapshot.js';
export type { CircuitBreakerState } from './circuit-breaker/circuit-breaker.state.js';
export type { BulkheadState } from './bulkhead/bulkhead.state.js';
export type { RateLimitSnapshot, RateLimitState } from './rate-limit/rate-limit.state.js';
export type { NamedPolicies, CircuitBreakers } from './registry/named-policies.js';
export type { BreakerCoordination } from './circuit-breaker/circuit-coordinator.interface.js';
export * from './errors/index.js';
export type {
  ChaosExperimentOptions,
  ChaosFaultOptions,
  ChaosLatencyOptions,
  ChaosOptions,
  ChaosOutcomeOptions,
} from './chaos/chaos.options.js';
export { DEFAULT_CHAOS_OPTIONS } from './chaos/chaos.options.js';
export type { ChaosExperiments } from './chaos/chaos-experiments.js';
export type { ChaosInjectionKind, ChaosRates, ChaosSnapshot, ChaosState } from './chaos/chaos.state.js';
export type {
  BulkheadRejectedEvent,
  CallFailureEvent,
  CallOutcomeEvent,
  CallSuccessEvent,
  ChaosInjectedEvent,
  CircuitStateEvent,
  ConcurrencyLimitEvent,
  CoordinationErrorEvent,
  DeadLetterEvent,
  DeadLetterReplayEvent,
  DeadLetterStoreErrorEvent,
  FallbackEvent,
  HedgeEvent,
  RateLimitRejectedEvent,
  RateLimitStoreErrorEvent,
  RateLimitStoreRecoveredEvent,
  PolicyTarget,
  ResilienceEvent,
  ResilienceEventListener,
  ResilienceEventOf,
  ResilienceEventType,
  LoadPressureEvent,
  LoadShedEvent,
  RetryBudgetExhaustedEvent,
  RetryEvent,
  RetryGiveUpEvent,
  TimeoutEvent,
} from './events/resilience-event.interface.js';
export { ResilienceEvents } from './events/resilience-events.js';
export type { CircuitCoordinator, CoordinatedCircuit } from './circuit-breaker/circuit-coordinator.interface.js';
export { MemoryRateLimitStore, type MemoryRateLimitStoreOptions } from './rate-limit/memory-rate-limit.store.js';
export type { PerRequest, RateLimitKey, RateLimitOptions } from './rate-limit/rate-limit.options.js';
export { DEFAULT_RATE_LIMIT_OPTIONS } from './rate-limit/rate-limit.options.js';
export type {
  RateLimitDecision,
  RateLimitRequest,
  RateLimitStore,
  TokenBucketRule,
} from './rate-limit/rate-limit-store.interface.js';
export { ResilienceRegistry } from './registry/resilience-registry.js';
export type { FallbackFunction, FallbackOptions } from './fallback/fallback.options.js';
export { getIdempotencyKey, getTimeoutSignal } from './pipeline/invocation.js';
export { withSignal } from './pipeline/caller-signal.js';
export type {
  IdempotencyAcquireResult,
  IdempotencyRecord,
  IdempotencyStore,
} from './idempotency/idempotency-store.interface.js';
export { MemoryIdempotencyStore, type MemoryIdempotencyStoreOptions } from './idempotency/memory-idempotency.store.js';
export type {
  IdempotencyInFlight,
  IdempotencyOptions,
  IdempotencyReplay,
  IdempotencyStoreErrorMode,
} from './idempotency/idempotency.options.js';
export { DEFAULT_IDEMPOTENCY_OPTIONS } from './idempotency/idempotency.options.js';
export type { LastKnownGoodOptions } from './fallback/last-known-good.options.js';
export { DEFAULT_LAST_KNOWN_GOOD_OPTIONS } from './fallback/last-known-good.options.js';
export type { LastKnownGoodStore, RememberedAnswer } from './fallback/last-known-good-store.interface.js';
export {
  MemoryLastKnownGoodStore,
  type MemoryLastKnownGoodStoreOptions,
} from './fallback/memory-last-known-good.store.js';
export type { LastKnownGoodSnapshot, LastKnownGoodState } from './fallback/last-known-good.state.js';
export type {
  DeadLetter as DeadLetterRecord,
  DeadLetterError,
  DeadLetterReplay,
  DeadLetterStore,
} from './dead-letter/dead-letter.interface.js';
export type { DeadLetterOptions } from './dead-letter/dead-letter.options.js';
export { DEFAULT_DEAD_LETTER_OPTIONS } from './dead-letter/dead-letter.options.js';
export { MemoryDeadLetterStore, type MemoryDeadLetterStoreOptions } from './dead-letter/memory-dead-letter.store.js';
export type {
  DeadLetterQueue,
  DeadLetterQueueSnapshot,
  DeadLetterReplayResult,
} from './dead-letter/dead-letter.queue.js';
export type { DeadLetterQueues } from './registry/dead-letter-queues.js';
export type { BackoffKind, ErrorClass, JitterKind, RetryOptions } from './retry/retry.options.js';
export { DEFAULT_RETRY_OPTIONS } from './retry/retry.options.js';
export { DEFAULT_RETRY_BUDGET_OPTIONS, type RetryBudgetOptions } from './retry/retry-budget.options.js';
export type { RetryBudgetSnapshot, RetryBudgetState } from './retry/retry-budget.state.js';
export { RETRY_BUDGET_EXHAUSTED, retryBudgetExhaustedOf } from './retry/retry-budget-exhausted.js';
export { httpStatusOf, isTransientError, retryAfterOf } from './errors/error-classification.js';
export { backoffDelay } from './retry/backoff.js';
export type { AdaptiveTimeoutOptions, TimeoutOptions } from './timeout/timeout.options.js';
export { DEFAULT_ADAPTIVE_TIMEOUT_OPTIONS, DEFAULT_TIMEOUT_OPTIONS } from './timeout/timeout.options.js';
export type { CallOutcome } from './metrics/call-outcome.js';
export type { CallRecorder } from './metrics/call-recorder.interface.js';
export type { TargetMetrics } from './metrics/target-metrics.js';
export type { TargetSnapshot } from './metrics/target-metrics.state.js';
export { DEFAULT_LOAD_SHEDDING_OPTIONS } from './load-shedding/load-shedding.options.js';
export type { LoadSheddingOptions, LoadThresholds, RequestPriority } from './load-shedding/load-shedding.options.js';
export type { LoadSample, LoadSampler } from './load-shedding/load-sampler.interface.js';
export { ProcessLoadSampler } from './load-shedding/process-load.sampler.js';
export { LoadShedderState, type LoadSheddingSnapshot } from './load-shedding/load-shedder.state.js';
export { DEFAULT_HEDGE_OPTIONS, type HedgeDelay, type HedgeOptions } from './hedge/hedge.options.js';
export type { LatencySource } from './hedge/latency-source.interface.js';
export { DEFAULT_MIN_LATENCY_SAMPLES } from './hedge/metrics-latency.source.js';
export { HedgeLostError } from './hedge/hedge.policy.js';
