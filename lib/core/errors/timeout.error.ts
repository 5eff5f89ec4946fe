import { ResilienceError } from './resilience.error.js';

/** Thrown when a call (one attempt, or the total budget across attempts) exceeds its timeout. */
export class TimeoutError extends ResilienceError {
  readonly code = 'TIMEOUT';

  constructor(
    policy: string,
    /** The limit that was exceeded, in milliseconds. */
    readonly duration: number,
    /** `attempt` for a per-attempt timeout, `total` for the budget across all retries. */
    readonly scope: 'attempt' | 'total' = 'attempt',
  ) {
    super(
      scope === 'total'
        ? `Timeout policy "${policy}" gave up: the total budget of ${duration} ms across all attempts was exceeded`
        : `Timeout policy "${policy}" gave up: the call took longer than ${duration} ms`,
      policy,
    );
  }
}
