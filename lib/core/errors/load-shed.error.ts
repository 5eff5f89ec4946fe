import { ResilienceError } from './resilience.error.js';

/** The load signal that made the process shed a request. */
export type LoadShedReason = 'event-loop-delay' | 'event-loop-utilization' | 'heap';

/** Thrown (answered 503 with `Retry-After` over HTTP) when the process is overloaded and refuses a request early. */
export class LoadShedError extends ResilienceError {
  readonly code = 'LOAD_SHED';

  constructor(
    /** The signal that is over its threshold. */
    readonly reason: LoadShedReason,
    /** The priority of the refused request. */
    readonly priority: 'critical' | 'normal' | 'sheddable',
    /** Milliseconds after which the client may try again (the `Retry-After` header, in seconds). */
    readonly retryAfterMs: number,
  ) {
    super(`The server is overloaded (${reason}): the request was shed, try again later`, 'loadShedding');
  }
}
