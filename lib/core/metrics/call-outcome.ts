import { BrokenCircuitError } from '../errors/broken-circuit.error.js';
import { BulkheadRejectedError } from '../errors/bulkhead-rejected.error.js';
import { RateLimitExceededError } from '../errors/rate-limit-exceeded.error.js';
import { TimeoutError } from '../errors/timeout.error.js';

/**
 * How a call to a decorated method ended, as its caller saw it: `success`; `fallback` (failed, answered by
 * `@Fallback`); `timeout` (a `TimeoutError`); `short_circuited` (an open circuit); `rejected` (a full bulkhead or a
 * rate limit); `failure` (any other error).
 */
export type CallOutcome = 'success' | 'failure' | 'timeout' | 'short_circuited' | 'rejected' | 'fallback';

/** Every outcome, in the order the metrics list them. */
export const CALL_OUTCOMES: readonly CallOutcome[] = Object.freeze([
  'success',
  'failure',
  'timeout',
  'short_circuited',
  'rejected',
  'fallback',
]);

/** The outcome of a call that failed with `error`. */
export function failureOutcome(error: unknown): CallOutcome {
  if (error instanceof TimeoutError) return 'timeout';
  if (error instanceof BrokenCircuitError) return 'short_circuited';
  if (error instanceof BulkheadRejectedError || error instanceof RateLimitExceededError) return 'rejected';
  return 'failure';
}
