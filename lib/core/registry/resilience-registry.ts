import type { BulkheadOptions } from '../bulkhead/bulkhead.options.js';
import { BulkheadState, type BulkheadSnapshot } from '../bulkhead/bulkhead.state.js';
import type { CircuitBreakerOptions } from '../circuit-breaker/circuit-breaker.options.js';
import { CircuitBreakerState } from '../circuit-breaker/circuit-breaker.state.js';
import type { BreakerCoordination, CircuitCoordinator } from '../circuit-breaker/circuit-coordinator.interface.js';
import type { ResilienceEvents } from '../events/resilience-events.js';
import { MemoryRateLimitStore } from '../rate-limit/memory-rate-limit.store.js';
import type { RateLimitOptions } from '../rate-limit/rate-limit.options.js';
import type { RateLimitStore } from '../rate-limit/rate-limit-store.interface.js';
import { RateLimitState, type RateLimitSnapshot } from '../rate-limit/rate-limit.state.js';
import type { RetryBudgetOptions } from '../retry/retry-budget.options.js';
import { RetryBudgetState, type RetryBudgetSnapshot } from '../retry/retry-budget.state.js';
import { CircuitBreakers, NamedPolicies } from './named-policies.js';
import { ChaosExperiments } from '../chaos/chaos-experiments.js';
import type { ChaosExperimentOptions } from '../chaos/chaos.options.js';
import { ChaosState } from '../chaos/chaos.state.js';
import { LastKnownGoodState, type LastKnownGoodSnapshot } from '../fallback/last-known-good.state.js';
import type { ResolvedLastKnownGoodOptions } from '../fallback/last-known-good.options.js';
import type { LastKnownGoodStore } from '../fallback/last-known-good-store.interface.js';
import { MemoryLastKnownGoodStore } from '../fallback/memory-last-known-good.store.js';
import { DeadLetterQueues } from './dead-letter-queues.js';
import { DeadLetterQueue } from '../dead-letter/dead-letter.queue.js';
import type { DeadLetterStore } from '../dead-letter/dead-letter.interface.js';
import { MemoryDeadLetterStore } from '../dead-letter/memory-dead-letter.store.js';
import { TargetMetrics } from '../metrics/target-metrics.js';
import type { OutboxSnapshot, OutboxState } from '../outbox/outbox.state.js';
import { IdempotencyStats, type IdempotencySnapshot } from '../idempotency/idempotency-stats.js';

/**
 * The named, stateful policies of one application (circuit breakers, bulkheads, rate limits), read like maps, and
 * the operator's controls. Inject it (`ResilienceRegistry`) in an admin controller or a health check:
 * `registry.circuitBreakers.list()`, `registry.circuitBreakers.forceOpen('payments')`,
 * `registry.bulkheads.get('reports')`.
 */
export class ResilienceRegistry {
  /**
   * Every circuit breaker: `get`, `has`, `names`, `list` (snapshots), `reset`, `forceOpen`, `forceClose`, `disable`,
   * `save`, `restore`.
   */
  readonly circuitBreakers = new CircuitBreakers();
  /** Every bulkhead: `get`, `has`, `names`, `list` (active and queued calls). */
  readonly bulkheads = new NamedPolicies<BulkheadState, BulkheadSnapshot>('bulkhead');
  /** Every rate limit: `get`, `has`, `names`, `list` (the bucket rule). */
  readonly rateLimits = new NamedPolicies<RateLimitState, RateLimitSnapshot>('rate limit');
  /** Every chaos experiment: `get`, `has`, `names`, `list`, and the switch: `pause`, `resume`, `set(name, rates)`. */
  readonly chaos = new ChaosExperiments();
  /** Every last-known-good cache of a `@Fallback` chain: `get`, `has`, `names`, `list` (answers served, size). */
  readonly lastKnownGood = new NamedPolicies<LastKnownGoodState, LastKnownGoodSnapshot>('last-known-good cache');
  /** Every dead-letter queue: `list(queue)`, `get`, `replay(queue, id | 'all')`, `delete`, `names`. */
  readonly deadLetters = new DeadLetterQueues();
  /** The memory dead-letter store of queues without a `deadLetterStore` in the module options, made on first use. */
  private memoryDeadLetters: MemoryDeadLetterStore | undefined;
  /**
   * Every measured decorated target (`Class.method`): `get`, `has`, `names`, `list` (outcomes, p50/p95/p99, calls per
   * second). Empty unless call metrics are enabled (module option `metrics: true`, an exporter or the dashboard).
   */
  readonly targets = new TargetMetrics();
  /** Every retry budget of the module option `retryBudgets`: `get`, `has`, `names`, `list` (calls, retries, room). */
  readonly retryBudgets = new NamedPolicies<RetryBudgetState, RetryBudgetSnapshot>('retry budget');
  /**
   * Every publisher's outbox (`nest-resilience/rabbitmq`'s `RmqPublisher`), by publisher name: `get`, `has`, `names`,
   * `list` (depth, bytes, parked, sent, refused, connected).
   */
  readonly outboxes = new NamedPolicies<OutboxState, OutboxSnapshot>('outbox');
  /**
   * Every `@Idempotent` handler, by `Class.method`: `get`, `has`, `names`, `list` (requests running now, executed,
   * replayed, conflicts, mismatches, store errors; counted by this process).
   */
  readonly idempotency = new NamedPolicies<IdempotencyStats, IdempotencySnapshot>('idempotent handler');

  constructor(
    /** The application's event stream (transitions are reported there too). */
    readonly events: ResilienceEvents,
    /** Where rate-limit buckets live. */
    readonly store: RateLimitStore = new MemoryRateLimitStore(),
    /** Shares breaker openings between replicas, for breakers with `coordination: 'redis'` (often the store itself). */
    private readonly coordination?: BreakerCoordination,
  ) {
    store.attach?.(events);
    if (coordination !== undefined && coordination !== (store as unknown)) coordination.attach?.(events);
  }

  /** The coordinator of replicas, when the application has one. */
  get coordinator(): CircuitCoordinator | undefined {
    return this.coordination?.coordinator;
  }

  /** Releases what the store and the coordination opened for this application (called when it shuts down). */
  async close(): Promise<void> {
    await this.store.close?.();
    if (this.coordination !== undefined && this.coordination !== (this.store as unknown))
      await this.coordination.close?.();
  }

  /** @internal The circuit breaker called `name`, created with `options` on first use (the first options win). */
  circuitBreakerFor(name: string, options: CircuitBreakerOptions): CircuitBreakerState {
    return this.circuitBreakers.obtain(name, () => {
      const circuit = new CircuitBreakerState(name, options, this.events);
      if (options.coordination === 'redis' && this.coordinator) circuit.coordinate(this.coordinator);
      return circuit;
    });
  }

  /** @internal The bulkhead called `name`, created with `options` on first use. */
  bulkheadFor(name: string, options: BulkheadOptions): BulkheadState {
    return this.bulkheads.obtain(name, () => new BulkheadState(name, options, this.events));
  }

  /** @internal The chaos experiment called `name`, created with `options` on first use. */
  chaosFor(name: string, options: ChaosExperimentOptions): ChaosState {
    return this.chaos.obtain(name, () => new ChaosState(name, options, this.chaos));
  }

  /** @internal The retry budget called `name`, created with `options` on first use. */
  retryBudgetFor(name: string, options: RetryBudgetOptions): RetryBudgetState {
    return this.retryBudgets.obtain(name, () => new RetryBudgetState(name, options));
  }

  /** @internal The counters of the `@Idempotent` handler called `name` (`Class.method`). */
  idempotencyFor(name: string): IdempotencyStats {
    return this.idempotency.obtain(name, () => new IdempotencyStats(name));
  }

  /** @internal The rate limit called `name`, created with `options` on first use. */
  rateLimitFor(name: string, options: RateLimitOptions): RateLimitState {
    return this.rateLimits.obtain(name, () => new RateLimitState(name, options, this.store));
  }

  /**
   * @internal The last-known-good cache called `name`, created with `options` on first use: in `store` when the
   * module gives one (shared by every cache, keys prefixed by name), else in a memory store of its own.
   */
  lastKnownGoodFor(
    name: string,
    options: ResolvedLastKnownGoodOptions,
    store: LastKnownGoodStore | undefined,
  ): LastKnownGoodState {
    return this.lastKnownGood.obtain(
      name,
      () => new LastKnownGoodState(name, options, store ?? new MemoryLastKnownGoodStore(options)),
    );
  }

  /** @internal The dead-letter queue called `name`, in `store` (the module's) or this application's memory store. */
  deadLetterQueueFor(name: string, store: DeadLetterStore | undefined): DeadLetterQueue {
    return this.deadLetters.obtain(
      name,
      () => new DeadLetterQueue(name, store ?? (this.memoryDeadLetters ??= new MemoryDeadLetterStore()), this.events),
    );
  }
}
