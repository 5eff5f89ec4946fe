import type { CircuitBreakerSnapshot, SavedCircuitState } from '../circuit-breaker/circuit-breaker.snapshot.js';
import type { CircuitBreakerState } from '../circuit-breaker/circuit-breaker.state.js';
import { UnknownPolicyError } from '../errors/unknown-policy.error.js';

/** What the registry keeps per name: the shared state of one named policy. */
interface NamedState<TSnapshot> {
  readonly name: string;
  snapshot(): TSnapshot;
}

/**
 * The named policies of one kind in an application, read like a map: `get(name)`, `has(name)`, `names()`,
 * `list()`. Every method naming the same policy shares one entry; the options of the first one win.
 */
export class NamedPolicies<TState extends NamedState<TSnapshot>, TSnapshot> {
  private readonly byName = new Map<string, TState>();

  constructor(
    /** What the entries are, in messages: e.g. `circuit breaker`. */
    private readonly kind: string,
  ) {}

  /** The policy called `name`; throws an `UnknownPolicyError` (code `UNKNOWN_POLICY`, HTTP 404) when there is none. */
  get(name: string): TState {
    const state = this.byName.get(name);
    if (state === undefined) throw new UnknownPolicyError(this.kind, name, this.names());
    return state;
  }

  /** True when the application has a policy called `name`. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The names, in the order the policies were created. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** A snapshot of every policy of this kind. */
  list(): TSnapshot[] {
    return [...this.byName.values()].map((state) => state.snapshot());
  }

  /** @internal The policy called `name`, created by `create` on first use (at bootstrap). */
  obtain(name: string, create: () => TState): TState {
    let state = this.byName.get(name);
    if (state === undefined) {
      state = create();
      this.byName.set(name, state);
    }
    return state;
  }

  /** @internal Every entry, for the kinds that act on all of them. */
  protected values(): IterableIterator<TState> {
    return this.byName.values();
  }
}

/** The circuit breakers of an application, with the operator's controls. */
export class CircuitBreakers extends NamedPolicies<CircuitBreakerState, CircuitBreakerSnapshot> {
  constructor() {
    super('circuit breaker');
  }

  /** Closes the breaker, forgetting its window and any grown open duration. */
  reset(name: string): void {
    this.get(name).reset();
  }

  /** Rejects every call through the breaker until it is reset or force-closed. */
  forceOpen(name: string): void {
    this.get(name).forceOpen();
  }

  /** Closes the breaker and forgets its window (the grown open duration stays). */
  forceClose(name: string): void {
    this.get(name).forceClose();
  }

  /** Lets every call through the breaker without recording, until it is reset or force-closed. */
  disable(name: string): void {
    this.get(name).disable();
  }

  /** The states to keep across a restart (JSON-serialisable). */
  save(): SavedCircuitState[] {
    return [...this.values()].map((circuit) => circuit.save());
  }

  /** Brings back saved states; returns the names that matched no breaker of this application. */
  restore(saved: readonly SavedCircuitState[]): string[] {
    const unknown: string[] = [];
    for (const state of saved) {
      if (this.has(state.name)) this.get(state.name).restore(state);
      else unknown.push(state.name);
    }
    return unknown;
  }
}
