import { ResilienceError } from './resilience.error.js';

/**
 * Thrown at application bootstrap when an option is invalid or a decorator names a configuration that does not
 * exist. The message names the option, the value, the policy and the decorated class and method.
 */
export class ResilienceConfigError extends ResilienceError {
  readonly code = 'INVALID_CONFIGURATION';

  constructor(message: string, policy: string) {
    super(message, policy);
  }
}
