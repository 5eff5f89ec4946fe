/**
 * Every name every entry point exports, checked by `npm run typecheck`: the values exactly (`keyof typeof` the module,
 * so an accidental runtime export fails here), the types by name (a removed or renamed type fails here; an added
 * type fails test/docs/exports.spec.ts until docs/reference.md lists it). Change a list only with the export itself,
 * the reference and a CHANGELOG line.
 */
import { expectTypeOf } from 'vitest';
import type * as Root from '../../lib/index.js';
import type * as Redis from '../../lib/redis/index.js';
import type * as Health from '../../lib/health/index.js';
import type * as Testing from '../../lib/testing/index.js';
import type * as Prometheus from '../../lib/prometheus/index.js';
import type * as Opentelemetry from '../../lib/opentelemetry/index.js';
import type * as Dashboard from '../../lib/dashboard/index.js';
import type * as Http from '../../lib/http/index.js';
import type * as Rabbitmq from '../../lib/rabbitmq/index.js';

// nest-resilience
expectTypeOf<keyof typeof Root>().toEqualTypeOf<
  | 'BrokenCircuitError'
  | 'Bulkhead'
  | 'BulkheadRejectedError'
  | 'CallAbortedError'
  | 'ChaosFaultError'
  | 'CircuitBreaker'
  | 'DeadLetter'
  | 'Fallback'
  | 'getIdempotencyKey'
  | 'getTimeoutSignal'
  | 'Hedge'
  | 'HedgeLostError'
  | 'httpStatusOf'
  | 'IdempotencyBodyUnreadError'
  | 'IdempotencyKeyError'
  | 'IdempotencyKeyInFlightError'
  | 'IdempotencyKeyInvalidError'
  | 'IdempotencyKeyMismatchError'
  | 'IdempotencyKeyMissingError'
  | 'IdempotencyStoreUnavailableError'
  | 'Idempotent'
  | 'InvalidKeyError'
  | 'isTransientError'
  | 'LoadShedderState'
  | 'LoadShedError'
  | 'MemoryDeadLetterStore'
  | 'MemoryIdempotencyStore'
  | 'MemoryLastKnownGoodStore'
  | 'MemoryRateLimitStore'
  | 'Priority'
  | 'RateLimit'
  | 'RateLimitExceededError'
  | 'ResilienceConfigError'
  | 'ResilienceError'
  | 'ResilienceEvents'
  | 'ResilienceModule'
  | 'ResilienceRegistry'
  | 'ResilienceService'
  | 'ResilienceTimeout'
  | 'ResilienceTimeoutError'
  | 'Retry'
  | 'retryAfterOf'
  | 'retryBudgetExhaustedOf'
  | 'SkipLoadShedding'
  | 'SkipRateLimit'
  | 'Timeout'
  | 'TimeoutError'
  | 'TimeoutSignal'
  | 'toHttpAnswer'
  | 'UnknownPolicyError'
  | 'withSignal'
>();
export type RootTypes = [
  Root.BreakerCoordination,
  Root.BulkheadOptions,
  Root.BulkheadSnapshot,
  Root.BulkheadState,
  Root.ChaosExperiments,
  Root.ChaosOptions,
  Root.ChaosSnapshot,
  Root.ChaosState,
  Root.CircuitBreakerOptions,
  Root.CircuitBreakers,
  Root.CircuitBreakerSnapshot,
  Root.CircuitBreakerState,
  Root.DeadLetterOptions,
  Root.DeadLetterQueue,
  Root.DeadLetterQueues,
  Root.DeadLetterQueueSnapshot,
  Root.DeadLetterRecord,
  Root.DeadLetterStore,
  Root.ExecuteOptions,
  Root.FallbackOptions,
  Root.FallbackStep,
  Root.HandlerIdempotentOptions,
  Root.HandlerRateLimitOptions,
  Root.HedgeOptions,
  Root.HttpAnswer,
  Root.IdempotencyAcquireResult,
  Root.IdempotencyOptions,
  Root.IdempotencyRecord,
  Root.IdempotencySnapshot,
  Root.IdempotencyStats,
  Root.IdempotencyStore,
  Root.LastKnownGoodOptions,
  Root.LastKnownGoodSnapshot,
  Root.LastKnownGoodState,
  Root.LastKnownGoodStore,
  Root.LatencySource,
  Root.LoadSample,
  Root.LoadSampler,
  Root.LoadSheddingModuleOptions,
  Root.LoadSheddingOptions,
  Root.LoadSheddingSnapshot,
  Root.NamedPolicies<Root.BulkheadState, Root.BulkheadSnapshot>,
  Root.ProviderIdempotentOptions,
  Root.ProviderRateLimitOptions,
  Root.RateLimitDecision,
  Root.RateLimitOptions,
  Root.RateLimitRequest,
  Root.RateLimitSnapshot,
  Root.RateLimitState,
  Root.RateLimitStore,
  Root.RememberedAnswer,
  Root.ResilienceErrorCode,
  Root.ResilienceEvent,
  Root.ResilienceEventListener,
  Root.ResilienceEventOf<'retry'>,
  Root.ResilienceEventType,
  Root.ResilienceModuleOptions,
  Root.ResiliencePipeline,
  Root.ResiliencePipelineOptions,
  Root.ResiliencePolicyDefaults,
  Root.RetryBudgetOptions,
  Root.RetryBudgetSnapshot,
  Root.RetryBudgetState,
  Root.RetryOptions,
  Root.TargetMetrics,
  Root.TargetSnapshot,
  Root.TimeoutOptions,
  Root.TokenBucketRule,
];

// nest-resilience/redis
expectTypeOf<keyof typeof Redis>().toEqualTypeOf<
  | 'DEFAULT_REDIS_STORE_OPTIONS'
  | 'RedisDeadLetterStore'
  | 'RedisIdempotencyStore'
  | 'RedisLastKnownGoodStore'
  | 'RedisOutboxStore'
  | 'RedisStore'
  | 'RedisStoreTimeoutError'
>();
export type RedisTypes = [
  Redis.RedisDeadLetterStoreOptions,
  Redis.RedisOutboxStoreOptions,
  Redis.RedisStoreOptions,
  Redis.ResolvedRedisStoreOptions,
  Redis.StoreErrorMode,
];

// nest-resilience/health
expectTypeOf<keyof typeof Health>().toEqualTypeOf<'CircuitBreakerHealthIndicator' | 'defaultBreakerHealth'>();
export type HealthTypes = [Health.BreakerHealthStatus, Health.CircuitBreakerHealthOptions];

// nest-resilience/testing
expectTypeOf<keyof typeof Testing>().toEqualTypeOf<'ResilienceTesting' | 'ResilienceTestKit'>();
export type TestingTypes = [Testing.CallTrace<unknown>, Testing.ResilienceTestingOptions];

// nest-resilience/prometheus
expectTypeOf<keyof typeof Prometheus>().toEqualTypeOf<
  'DEFAULT_DURATION_BUCKETS' | 'PrometheusMetrics' | 'ResiliencePrometheusMetrics' | 'ResiliencePrometheusModule'
>();
export type PrometheusTypes = [Prometheus.PrometheusMetricsOptions, Prometheus.ResiliencePrometheusOptions];

// nest-resilience/opentelemetry
expectTypeOf<keyof typeof Opentelemetry>().toEqualTypeOf<
  | 'METER_NAME'
  | 'OpenTelemetryMetrics'
  | 'ResilienceMetricProducer'
  | 'ResilienceOpenTelemetryMetrics'
  | 'ResilienceOpenTelemetryModule'
>();
export type OpentelemetryTypes = [
  Opentelemetry.OpenTelemetryMetricsOptions,
  Opentelemetry.ResilienceMetricProducerOptions,
];

// nest-resilience/dashboard
expectTypeOf<keyof typeof Dashboard>().toEqualTypeOf<
  'DashboardFeed' | 'DEFAULT_DASHBOARD_OPTIONS' | 'ResilienceDashboardModule'
>();
export type DashboardTypes = [
  Dashboard.DashboardSnapshot,
  Dashboard.DashboardTransition,
  Dashboard.DashboardBreaker,
  Dashboard.DashboardDeadLetterQueue,
  Dashboard.DashboardTrends,
  Dashboard.ResilienceDashboardOptions,
];

// nest-resilience/http
expectTypeOf<keyof typeof Http>().toEqualTypeOf<
  | 'DEFAULT_HTTP_CLIENT_OPTIONS'
  | 'getHttpClientToken'
  | 'HttpClientError'
  | 'HttpResponse'
  | 'InjectHttpClient'
  | 'isRetryableHttpFailure'
  | 'isTransientHttpFailure'
  | 'ResilientHttpClient'
  | 'ResilientHttpModule'
>();
export type HttpTypes = [
  Http.HttpAttemptEvent,
  Http.HttpBulkheadOptions,
  Http.HttpCircuitBreakerOptions,
  Http.HttpClientErrorCode,
  Http.HttpGiveUp,
  Http.HttpHedgeOptions,
  Http.HttpIdempotencyKeyOptions,
  Http.HttpQuery,
  Http.HttpRateLimitOptions,
  Http.HttpRequestOptions,
  Http.HttpRetryOptions,
  Http.ResilientHttpClientOptions,
  Http.ResilientHttpModuleAsyncOptions,
  Http.ResolvedHttpClientOptions,
];

// nest-resilience/rabbitmq
expectTypeOf<keyof typeof Rabbitmq>().toEqualTypeOf<
  | 'DEFAULT_RMQ_ACKNOWLEDGE_OPTIONS'
  | 'DEFAULT_RMQ_PUBLISHER_OPTIONS'
  | 'getRmqPublisherToken'
  | 'InjectRmqPublisher'
  | 'MemoryOutboxStore'
  | 'RMQ_HEADERS'
  | 'RmqAcknowledge'
  | 'rmqMessageId'
  | 'RmqPublishError'
  | 'RmqPublisher'
  | 'RmqPublisherModule'
  | 'RmqDeadLetterStore'
>();
export type RabbitmqTypes = [
  Rabbitmq.RmqAcknowledgeOptions,
  Rabbitmq.OutboxAppendResult,
  Rabbitmq.OutboxEntry,
  Rabbitmq.OutboxFullEvent,
  Rabbitmq.OutboxLimits,
  Rabbitmq.OutboxParkedEvent,
  Rabbitmq.OutboxRefusal,
  Rabbitmq.OutboxSentEvent,
  Rabbitmq.OutboxSize,
  Rabbitmq.OutboxSnapshot,
  Rabbitmq.OutboxStore,
  Rabbitmq.ResolvedRmqPublisherOptions,
  Rabbitmq.RmqEmitOptions,
  Rabbitmq.RmqOutboxOptions,
  Rabbitmq.RmqPublishOptions,
  Rabbitmq.RmqPublishResult,
  Rabbitmq.RmqPublishRetryOptions,
  Rabbitmq.RmqPublisherModuleAsyncOptions,
  Rabbitmq.RmqPublisherOptions,
  Rabbitmq.RmqDeadLetterConnection,
  Rabbitmq.RmqDeadLetterStoreOptions,
];
