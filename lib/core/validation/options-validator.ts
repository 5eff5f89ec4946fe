import { ResilienceConfigError } from '../errors/resilience-config.error.js';

/**
 * Checks one policy's options and throws a {@link ResilienceConfigError} whose message names the option, the value,
 * the policy kind and name, and where it was declared (for example `PaymentsService.charge`).
 */
export class OptionsValidator {
  constructor(
    private readonly kind: string,
    private readonly policy: string,
    private readonly declaredAt: string,
  ) {}

  /** A finite number of milliseconds greater than zero. */
  positiveDuration(option: string, value: unknown): void {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      this.fail(option, value, 'must be a finite number of milliseconds greater than 0');
    }
  }

  /** A finite number of milliseconds, zero allowed. */
  nonNegativeDuration(option: string, value: unknown): void {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      this.fail(option, value, 'must be a finite number of milliseconds >= 0');
    }
  }

  /** An integer no smaller than `min`. */
  integerAtLeast(option: string, value: unknown, min: number): void {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      this.fail(option, value, `must be an integer >= ${min}`);
    }
  }

  /** A finite number no smaller than `min`. */
  numberAtLeast(option: string, value: unknown, min: number): void {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      this.fail(option, value, `must be a finite number >= ${min}`);
    }
  }

  /** A function, when given. */
  optionalFunction(option: string, value: unknown): void {
    if (value !== undefined && typeof value !== 'function') {
      this.fail(option, value, 'must be a function');
    }
  }

  /** An array of error classes, when given. */
  optionalErrorClasses(option: string, value: unknown): void {
    if (value !== undefined && (!Array.isArray(value) || value.some((entry) => typeof entry !== 'function'))) {
      this.fail(option, value, 'must be an array of error classes');
    }
  }

  /** One of `allowed`. */
  oneOf(option: string, value: unknown, allowed: readonly string[]): void {
    if (typeof value !== 'string' || !allowed.includes(value)) {
      this.fail(option, value, `must be one of ${allowed.map((entry) => `"${entry}"`).join(', ')}`);
    }
  }

  /** Throws for a rule that does not fit the helpers above. */
  fail(option: string, value: unknown, rule: string): never {
    throw new ResilienceConfigError(
      `Invalid ${this.kind} option "${option}" = ${describe(value)} for policy "${this.policy}" ` +
        `(declared on ${this.declaredAt}): ${rule}`,
      this.policy,
    );
  }
}

function describe(value: unknown): string {
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`;
  return String(value);
}
