import type { CircuitBreakerOptions } from '../circuit-breaker/circuit-breaker-options.js';
import type { CircuitBreakerSnapshot, SavedCircuitState } from '../circuit-breaker/circuit-state.js';
import { Circuit } from '../circuit-breaker/circuit.js';
import type { ResilienceEvents } from '../events/resilience-events.js';

/**
 * Owns the shared, stateful policy instances of one application (circuit breakers) by name, and lets an operator
 * read and control them. Inject it (`ResilienceRegistry`) in an admin controller or a health check.
 */
export class ResilienceRegistry {
  private readonly circuits = new Map<string, Circuit>();

  constructor(
    /** The application's event stream (transitions are reported there too). */
    readonly events: ResilienceEvents,
  ) {}

  /**
   * The circuit called `name`, created with `options` on first use. Every method naming the same breaker shares it;
   * the options of the first one win.
   */
  circuitFor(name: string, options: CircuitBreakerOptions): Circuit {
    let circuit = this.circuits.get(name);
    if (circuit === undefined) {
      circuit = new Circuit(name, options, this.events);
      this.circuits.set(name, circuit);
    }
    return circuit;
  }

  /** The circuit called `name`; throws when there is none. */
  circuit(name: string): Circuit {
    const circuit = this.circuits.get(name);
    if (circuit === undefined) {
      const known = [...this.circuits.keys()].map((key) => `"${key}"`).join(', ') || 'none';
      throw new Error(`No circuit breaker named "${name}" (known: ${known})`);
    }
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
