import type { ChaosOptions } from '../../core/chaos/chaos.options.js';
import type { RateLimitStore } from '../../core/rate-limit/rate-limit-store.interface.js';
import type { BreakerCoordination } from '../../core/circuit-breaker/circuit-coordinator.interface.js';
import type { RetryBudgetOptions } from '../../core/retry/retry-budget.options.js';
import type { LoadSheddingOptions } from '../../core/load-shedding/load-shedding.options.js';
import type { LoadSampler } from '../../core/load-shedding/load-sampler.interface.js';
import type { LatencySource } from '../../core/hedge/latency-source.interface.js';
import type { IdempotencyStore } from '../../core/idempotency/idempotency-store.interface.js';
import type { LastKnownGoodStore } from '../../core/fallback/last-known-good-store.interface.js';
import type { DeadLetterStore } from '../../core/dead-letter/dead-letter.interface.js';

/**
 * The options of `ResilienceModule.forRoot()` other than those of the policy kinds: stores, global limits, load
 * shedding, chaos, metrics. `ResilienceModuleOptions` (`nest/module/`) adds to them each kind's module-wide
 * `defaults` and named configurations, derived from the canonical order; this leaf is what every layer may read.
 */
export interface ResilienceModuleBaseOptions {
  /**
   * Names of `rateLimits` configurations applied to every handler of the application, decorated or not (HTTP
   * routes, GraphQL resolvers, WebSocket gateways, microservice handlers), as @nestjs/throttler's `APP_GUARD` does:
   * a request spends from each (and from the handler's own limits) only when all admit it. `@SkipRateLimit()`
   * exempts a handler or controller, `@SkipRateLimit('name')` from one of them. Checked at bootstrap: every name must
   * be a `rateLimits` configuration. Default: none (and then no global guard runs at all).
   */
  globalRateLimits?: readonly string[];
  /**
   * Named retry budgets, used as `@Retry({ budget: 'name' })`: every retry naming one spends from it, and a retry
   * starts only while retries stay within `minPerSecond` plus `ratio` of the calls of the last `window` ms.
   * Defaults per budget: `{ ratio: 0.2, minPerSecond: 10, window: 10_000 }`.
   */
  retryBudgets?: Record<string, Partial<RetryBudgetOptions>>;
  /**
   * Refuse requests early while the process is overloaded (event-loop delay, event-loop utilisation, heap), on every
   * handler, by priority (`@Priority`): `true` for the defaults, or options. Default: off (and then it costs nothing).
   */
  loadShedding?: boolean | LoadSheddingModuleOptions;
  /**
   * Recent latencies per method, for `@Hedge({ delay: { percentile } })`. Default: each hedged method's own sliding
   * latency histogram (the registry's `targets`, measured for it even with call metrics off), trusted from 20 calls
   * in the window; give your own to read them elsewhere.
   */
  latencySource?: LatencySource;
  /** Where rate-limit buckets live. Default: a `MemoryRateLimitStore` (this process, at most 100,000 keys). */
  store?: RateLimitStore;
  /**
   * Where circuit breakers with `coordination: 'redis'` share openings and elect one prober across replicas: a
   * `RedisStore` (`coordination: redis`, whether or not it is also the `store`), or your own `BreakerCoordination`.
   * Default: the `store` when it can coordinate (a `RedisStore` can), else none.
   */
  coordination?: BreakerCoordination;
  /**
   * Where `@Idempotent` keeps its records: a `MemoryIdempotencyStore`, `redisStore.idempotency`, or your own
   * `IdempotencyStore`. Default: the `store`'s when it has one (a `RedisStore` does), else a `MemoryIdempotencyStore`
   * (this process, at most 10,000 records and 64 MiB).
   */
  idempotencyStore?: IdempotencyStore;
  /**
   * Fault injection (latency, faults, outcomes) to prove the policies before production does. Off unless asked for
   * three times: `enabled: true`, a rate above 0, and `NODE_ENV` not `production` (or `allowInProduction: true`).
   * Default: off. See docs/chaos-and-testing.md.
   */
  chaos?: ChaosOptions;
  /**
   * Where the last-known-good steps of `@Fallback` chains remember answers: a `RedisLastKnownGoodStore`
   * (`nest-resilience/redis`) so replicas share them, or your own `LastKnownGoodStore`. Default: each cache in memory,
   * bounded by its `maxEntries` and `maxBytes`.
   */
  lastKnownGoodStore?: LastKnownGoodStore;
  /**
   * Where `@DeadLetter` keeps letters: a `RedisDeadLetterStore` (`nest-resilience/redis`, Redis Streams) or your
   * own `DeadLetterStore` (your broker's dead-letter queue). Default: memory, at most 1000 letters per queue.
   */
  deadLetterStore?: DeadLetterStore;
  /**
   * Measures every call of every decorated target (duration and outcome): `registry.targets.list()` gives
   * p50/p95/p99 and calls per second, the health indicator shows them, exporters receive them. Importing the
   * Prometheus or OpenTelemetry exporter or the dashboard turns it on too. Default `false`: without it the
   * pipelines have no measuring step at all. `'true'` / `'false'` strings (from `ConfigService`) are accepted.
   */
  metrics?: boolean | 'true' | 'false';
}

/** The module option `loadShedding`: the options, and what measures the load (replace it in tests). */
export interface LoadSheddingModuleOptions extends Partial<LoadSheddingOptions> {
  /** Measures the process's load on every `sampleInterval`. Default: a `ProcessLoadSampler` (perf_hooks, v8). */
  sampler?: LoadSampler;
}
