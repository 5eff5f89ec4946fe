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
  /** Every retry budget of the module option `retryBudgets`: `get`, `has`, `names`, `list` (calls, retries, room). */
  readonly retryBudgets = new NamedPolicies<RetryBudgetState, RetryBudgetSnapshot>('retry budget');

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

  /** @internal The retry budget called `name`, created with `options` on first use. */
  retryBudgetFor(name: string, options: RetryBudgetOptions): RetryBudgetState {
    return this.retryBudgets.obtain(name, () => new RetryBudgetState(name, options));
  }

  /** @internal The rate limit called `name`, created with `options` on first use. */
  rateLimitFor(name: string, options: RateLimitOptions): RateLimitState {
    return this.rateLimits.obtain(name, () => new RateLimitState(name, options, this.store));
  }
}
