/** An adaptive concurrency limit (Netflix concurrency-limits): moves with each completed call's latency. */
export interface ConcurrencyLimit {
  /** The current limit (may be fractional; calls are admitted while in-flight < floor(limit)). */
  readonly limit: number;
  /**
   * One completed call: its round-trip time in ms, the calls in flight when it started (itself included), and
   * whether it was dropped (timed out), a sign of overload.
   */
  onSample(rtt: number, inflight: number, dropped: boolean): void;
}

/** The bounds every algorithm keeps its limit within. */
export interface LimitBounds {
  readonly initialLimit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
}
