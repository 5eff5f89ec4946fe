import { didYouMean } from '../validation/did-you-mean.js';
import { ResilienceError } from './resilience.error.js';

/**
 * Thrown by the registry when asked for a policy (a circuit breaker) that the application does not have, e.g. by an
 * admin endpoint: map `UNKNOWN_POLICY` to HTTP 404. The message lists the known names and suggests a close one.
 */
export class UnknownPolicyError extends ResilienceError {
  readonly code = 'UNKNOWN_POLICY';

  constructor(
    /** What was asked for, e.g. `circuit breaker`. */
    readonly kind: string,
    policy: string,
    /** The names that exist. */
    readonly known: readonly string[],
  ) {
    super(
      `No ${kind} named "${policy}".${didYouMean(policy, known)} ` +
        `Known: ${known.map((name) => `"${name}"`).join(', ') || 'none'}`,
      policy,
    );
  }
}
