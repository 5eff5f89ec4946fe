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

/**
 * Builds the rejection without capturing a stack trace: an open circuit rejects many calls per second, the stack
 * says nothing about the cause, and capturing it costs more than the rest of the rejection.
 */
export function brokenCircuit(policy: string, retryAt?: number): BrokenCircuitError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const error = new BrokenCircuitError(policy, retryAt);
  Error.stackTraceLimit = limit;
  return error;
}

/** True when `error` is a {@link BrokenCircuitError}. */
export function isBrokenCircuitError(error: unknown): error is BrokenCircuitError {
  return error instanceof BrokenCircuitError;
}
