import { ResilienceError } from './resilience.error.js';

const message = (policy: string) => `Circuit breaker "${policy}" is open: the call was not attempted`;

/** Thrown without calling the method while a circuit breaker is open (or forced open). */
export class BrokenCircuitError extends ResilienceError {
  readonly code = 'BROKEN_CIRCUIT';

  constructor(
    policy: string,
    /** Epoch milliseconds at which the breaker lets a probe through again; `undefined` when forced open. */
    readonly retryAt?: number,
  ) {
    super(message(policy), policy);
  }
}

/**
 * Builds the rejection of an open breaker without running the Error constructor, which captures a stack trace: an
 * open circuit rejects many calls per second, the stack says nothing about the cause, and capturing it costs ten
 * times the rest of the rejection. The result is a genuine `BrokenCircuitError` (`instanceof` holds) whose `stack`
 * is its first line only.
 */
export function brokenCircuit(policy: string, retryAt?: number): BrokenCircuitError {
  const text = message(policy);
  return Object.assign(Object.create(BrokenCircuitError.prototype) as BrokenCircuitError, {
    name: 'BrokenCircuitError',
    message: text,
    stack: `BrokenCircuitError: ${text}`,
    code: 'BROKEN_CIRCUIT' as const,
    policy,
    retryAt,
  });
}
