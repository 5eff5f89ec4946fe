import { ResilienceError } from './resilience.error.js';

/**
 * The fault a chaos experiment injects when it has no `error` factory of its own. It stands for a downstream failure,
 * so Retry retries it, a CircuitBreaker records it and a Fallback replaces it, as they would a real one.
 */
export class ChaosFaultError extends ResilienceError {
  readonly code = 'CHAOS_FAULT';

  constructor(
    /** The experiment that injected it. */
    experiment: string,
  ) {
    super(`Fault injected by the chaos experiment "${experiment}"`, experiment);
  }
}
