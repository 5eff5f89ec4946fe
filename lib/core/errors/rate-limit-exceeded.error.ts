import { ResilienceError } from './resilience.error.js';

/** Thrown when a rate limit has no token left for the call (and waiting is not allowed or would take too long). */
export class RateLimitExceededError extends ResilienceError {
  readonly code = 'RATE_LIMIT_EXCEEDED';

  constructor(
    policy: string,
    /** Milliseconds until enough tokens are available. */
    readonly retryAfterMs: number,
    /** The limit's own message (its `message` option); default: which limit, and when to retry. */
    message = `Rate limit "${policy}" exceeded: retry in ${Math.ceil(retryAfterMs)} ms`,
  ) {
    super(message, policy);
  }
}
