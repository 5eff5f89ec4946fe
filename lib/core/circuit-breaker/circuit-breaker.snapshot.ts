/**
 * `closed`: calls flow and outcomes are recorded. `open`: calls fail fast until the open duration has passed.
 * `half_open`: a few probe calls test the downstream. `forced_open` and `disabled` are set by an operator: always
 * reject, or always allow without recording.
 */
export type CircuitState = 'closed' | 'open' | 'half_open' | 'forced_open' | 'disabled';

/** Why a breaker changed state. */
export type CircuitTransitionReason =
  | 'failure-rate'
  | 'slow-call-rate'
  | 'consecutive-failures'
  | 'open-duration-elapsed'
  | 'probe-failed'
  | 'probes-succeeded'
  | 'reset'
  | 'close'
  | 'force-open'
  | 'disable'
  | 'restore'
  /** Another replica opened this breaker (`coordination: 'redis'`). */
  | 'peer-opened';

/** A breaker's state and figures, as the registry and the health indicator report them. */
export interface CircuitBreakerSnapshot {
  readonly name: string;
  readonly state: CircuitState;
  /** Calls in the sliding window. */
  readonly calls: number;
  /** Failures in the sliding window. */
  readonly failures: number;
  /** Slow calls in the sliding window. */
  readonly slowCalls: number;
  /** Failures / calls, in percent (0 when the window is empty). */
  readonly failureRate: number;
  /** Slow calls / calls, in percent (0 when the window is empty). */
  readonly slowCallRate: number;
  /** Epoch milliseconds at which it last opened, while open or half-open. */
  readonly openedAt?: number;
  /** Epoch milliseconds at which an open breaker lets probes through. */
  readonly retryAt?: number;
  /** The current open duration in milliseconds (grows with failed probes when configured). */
  readonly openDuration: number;
  /** Whether health checks report it as `down` while open. */
  readonly critical: boolean;
}

/** What `snapshot()` saves and `restore()` brings back after a restart. */
export interface SavedCircuitState {
  readonly name: string;
  readonly state: CircuitState;
  readonly openedAt?: number;
  readonly retryAt?: number;
  readonly openDuration: number;
}
