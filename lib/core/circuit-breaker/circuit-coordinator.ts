/** What a coordinator needs of a breaker: its name, and a way to open it when a peer did. */
export interface CoordinatedCircuit {
  readonly name: string;
  /** A peer opened this breaker until `retryAt` (epoch ms). */
  openedByPeer(retryAt: number): void;
}

/**
 * Shares circuit-breaker openings between replicas and elects one prober in half-open. Decisions stay local: the
 * coordinator is told about openings and asked for probe leases, never consulted while closed. Every method must
 * handle its own errors (a coordinator outage must not open or close a breaker).
 */
export interface CircuitCoordinator {
  /** Starts delivering peers' openings of `circuit` to it. */
  join(circuit: CoordinatedCircuit): void;
  /** Tells peers that `name` opened here until `retryAt` (epoch ms). Fire and forget. */
  publishOpen(name: string, retryAt: number): void;
  /**
   * Asks for the right to send the half-open probe of `name`, held at most `ttlMs`. Resolves `true` when this
   * replica may probe, or when the coordinator cannot tell (then the breaker behaves as if alone).
   */
  acquireProbeLease(name: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease back once the probe has finished. Fire and forget. */
  releaseProbeLease(name: string): void;
}
