import { ResilienceError } from './resilience.error.js';

/** Thrown without calling the method while a circuit breaker is open (or forced open). */
export class BrokenCircuitError extends ResilienceError {
  readonly code = 'BROKEN_CIRCUIT';

  constructor(
    policy: string,
    /** Epoch milliseconds at which the breaker lets a probe through again; `undefined` when forced open. */
    readonly retryAt?: number,
  ) {
    super(`Circuit breaker "${policy}" is open: the call was not attempted`, policy);
  }
}

/** True when `error` is a {@link BrokenCircuitError}. */
export function isBrokenCircuitError(error: unknown): error is BrokenCircuitError {
  return error instanceof BrokenCircuitError;
}
