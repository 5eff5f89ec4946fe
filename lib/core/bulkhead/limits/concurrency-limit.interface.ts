/** An adaptive concurrency limit (Netflix concurrency-limits): moves with each completed call's latency. */
export interface ConcurrencyLimit {
  /** The current limit (may be fractional; calls are admitted while in-flight < floor(limit)). */
  readonly limit: number;
  /**
   * One completed call: its round-trip time in ms, the calls in flight when it started (itself included), and
   * whether it was dropped (timed out), a sign of overload; `now` is `performance.now()` when it ended (the caller
   * read the clock already for the latency). Default: read now.
   */
  onSample(rtt: number, inflight: number, dropped: boolean, now?: number): void;
}

/** The bounds every algorithm keeps its limit within. */
export interface LimitBounds {
  readonly initialLimit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
}
