import type { BulkheadOptions } from '../bulkhead/bulkhead-options.js';
import { Bulkhead, type BulkheadSnapshot } from '../bulkhead/bulkhead.js';
import type { CircuitBreakerOptions } from '../circuit-breaker/circuit-breaker-options.js';
import type { CircuitBreakerSnapshot, SavedCircuitState } from '../circuit-breaker/circuit-state.js';
import { Circuit } from '../circuit-breaker/circuit.js';
import type { ResilienceEvents } from '../events/resilience-events.js';
import { MemoryRateLimitStore } from '../rate-limit/memory-rate-limit.store.js';
import type { RateLimitOptions } from '../rate-limit/rate-limit-options.js';
import type { RateLimitStore } from '../rate-limit/rate-limit-store.interface.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import { UnknownPolicyError } from '../errors/unknown-policy.error.js';

/**
 * Owns the shared, stateful policy instances of one application (circuit breakers, bulkheads) by name, and lets an operator
 * read and control them. Inject it (`ResilienceRegistry`) in an admin controller or a health check.
 */
export class ResilienceRegistry {
  private readonly circuits = new Map<string, Circuit>();
  private readonly bulkheadsByName = new Map<string, Bulkhead>();
  private readonly rateLimiters = new Map<string, RateLimiter>();

  constructor(
    /** The application's event stream (transitions are reported there too). */
    readonly events: ResilienceEvents,
    /** Where rate-limit buckets live. */
    readonly store: RateLimitStore = new MemoryRateLimitStore(),
  ) {
    store.attach?.(events);
  }

  /** The rate limit called `name`, created with `options` on first use; shared like circuits. */
  rateLimiterFor(name: string, options: RateLimitOptions): RateLimiter {
    let limiter = this.rateLimiters.get(name);
    if (limiter === undefined) {
      limiter = new RateLimiter(name, options, this.store);
      this.rateLimiters.set(name, limiter);
    }
    return limiter;
  }

  /**
   * The circuit called `name`, created with `options` on first use. Every method naming the same breaker shares it;
   * the options of the first one win.
   */
  circuitFor(name: string, options: CircuitBreakerOptions): Circuit {
    let circuit = this.circuits.get(name);
    if (circuit === undefined) {
      circuit = new Circuit(name, options, this.events);
      if (options.coordination === 'redis' && this.store.coordinator) circuit.coordinate(this.store.coordinator);
      this.circuits.set(name, circuit);
    }
    return circuit;
  }

  /** The bulkhead called `name`, created with `options` on first use; shared like circuits. */
  bulkheadFor(name: string, options: BulkheadOptions): Bulkhead {
    let bulkhead = this.bulkheadsByName.get(name);
    if (bulkhead === undefined) {
      bulkhead = new Bulkhead(name, options, this.events);
      this.bulkheadsByName.set(name, bulkhead);
    }
    return bulkhead;
  }

  /** Every bulkhead with its active and queued calls. */
  bulkheads(): BulkheadSnapshot[] {
    return [...this.bulkheadsByName.values()].map((bulkhead) => bulkhead.snapshot());
  }

  /** The circuit called `name`; throws an {@link UnknownPolicyError} (code `UNKNOWN_POLICY`) when there is none. */
  circuit(name: string): Circuit {
    const circuit = this.circuits.get(name);
    if (circuit === undefined) throw new UnknownPolicyError('circuit breaker', name, [...this.circuits.keys()]);
    return circuit;
  }

  /** Every circuit breaker with its state, window counts, rates and open times. */
  circuitBreakers(): CircuitBreakerSnapshot[] {
    return [...this.circuits.values()].map((circuit) => circuit.snapshot());
  }

  /** Closes the breaker, forgetting its window and any grown open duration. */
  reset(name: string): void {
    this.circuit(name).reset();
  }

  /** Closes the breaker and forgets its window. */
  close(name: string): void {
    this.circuit(name).forceClose();
  }

  /** Rejects every call through the breaker until it is reset or closed. */
  forceOpen(name: string): void {
    this.circuit(name).forceOpen();
  }

  /** Lets every call through the breaker without recording, until it is reset or closed. */
  disable(name: string): void {
    this.circuit(name).disable();
  }

  /** The states to keep across a restart (JSON-serialisable). */
  saveCircuitStates(): SavedCircuitState[] {
    return [...this.circuits.values()].map((circuit) => circuit.save());
  }

  /** Brings back saved states; returns the names that matched no breaker of this application. */
  restoreCircuitStates(saved: readonly SavedCircuitState[]): string[] {
    const unknown: string[] = [];
    for (const state of saved) {
      const circuit = this.circuits.get(state.name);
      if (circuit) circuit.restore(state);
      else unknown.push(state.name);
    }
    return unknown;
  }
}
