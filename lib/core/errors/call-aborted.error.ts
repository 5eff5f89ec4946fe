import { ResilienceError } from './resilience.error.js';

/**
 * The caller's own `AbortSignal` was aborted (`withSignal(signal, ...)`, `ResilienceService.execute(..., { signal })`):
 * the call was given up at once, wherever it was (an attempt, a retry's backoff, a bulkhead's queue, hedges), and the
 * attempt's signal (`getTimeoutSignal()`, `@TimeoutSignal()`, `attempt.signal`) aborted with this error. Its `name` is
 * `AbortError`, as for an aborted `fetch`, so code that checks `error.name === 'AbortError'` treats both alike; the
 * signal's reason is its `cause`. Never retried, never recorded by a circuit breaker as a downstream failure.
 */
export class CallAbortedError extends ResilienceError {
  readonly code = 'ABORTED' as const;

  constructor(
    /** The decorated method or pipeline (`Class.method`). */
    policy: string,
    /** The signal's `reason`. */
    reason: unknown,
  ) {
    super(`The call to ${policy} was aborted by its caller's signal`, policy, { cause: reason });
    this.name = 'AbortError';
  }
}
