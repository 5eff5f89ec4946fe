import type { ResilienceEvents } from '../events/resilience-events.js';

/** What a coordinator needs of a breaker: its name, and a way to open it when a peer did. */
export interface CoordinatedCircuit {
  readonly name: string;
  /** A peer opened this breaker for `remainingMs` more (a duration: no replica reads another's clock). */
  openedByPeer(remainingMs: number): void;
}

/**
 * Shares circuit-breaker openings between replicas and elects one prober in half-open. Decisions stay local: the
 * coordinator is told about openings and asked for probe leases, never consulted while closed. Every method must
 * handle its own errors (a coordinator outage must not open or close a breaker).
 */
export interface CircuitCoordinator {
  /** Starts delivering peers' openings of `circuit` to it. */
  join(circuit: CoordinatedCircuit): void;
  /**
   * Tells peers that `name` opened here and stays open `remainingMs` (a duration, never an instant: peers' clocks
   * differ). Fire and forget; an announcement the coordinator could not deliver is retried while the opening lasts.
   */
  publishOpen(name: string, remainingMs: number): void;
  /**
   * Asks for the right to send the half-open probe of `name`, held at most `ttlMs`. Resolves `true` when this
   * replica may probe, or when the coordinator cannot tell (then the breaker behaves as if alone).
   */
  acquireProbeLease(name: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease back once the probe has finished. Fire and forget. */
  releaseProbeLease(name: string): void;
}

/**
 * Where breakers coordinate across replicas, with the lifecycle of its connections: a `RedisStore` is one (it may
 * serve as the rate-limit store too), or implement your own. The module attaches it when an application starts and
 * closes it when that application shuts down.
 */
export interface BreakerCoordination {
  /** The coordinator breakers with `coordination: 'redis'` use. */
  readonly coordinator: CircuitCoordinator;
  /** Called once per application with its event stream. */
  attach?(events: ResilienceEvents): void;
  /** Called when that application shuts down: release what `attach` opened. */
  close?(): Promise<void>;
}
