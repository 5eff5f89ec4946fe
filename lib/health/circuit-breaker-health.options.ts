import type { CircuitBreakerSnapshot } from '../core/circuit-breaker/circuit-breaker.snapshot.js';

/** What a health check reports for one breaker. */
export type BreakerHealthStatus = 'up' | 'degraded' | 'down';

/** Options of `CircuitBreakerHealthIndicator.check()`. */
export interface CircuitBreakerHealthOptions {
  /** Names of the breakers to report. Default: every breaker of the application. */
  include?: readonly string[];
  /**
   * Maps a breaker to its health. Default {@link defaultBreakerHealth}: open or forced open -> `down` for breakers
   * marked `critical`, `degraded` for the others; half-open -> `degraded`; closed or disabled -> `up`.
   */
  statusOf?: (breaker: CircuitBreakerSnapshot) => BreakerHealthStatus;
}

/** The default mapping of breaker states to health. */
export function defaultBreakerHealth(breaker: CircuitBreakerSnapshot): BreakerHealthStatus {
  switch (breaker.state) {
    case 'open':
    case 'forced_open':
      return breaker.critical ? 'down' : 'degraded';
    case 'half_open':
      return 'degraded';
    default:
      return 'up';
  }
}
