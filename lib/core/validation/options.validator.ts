import { ResilienceConfigError } from '../errors/resilience-config.error.js';
import { didYouMean } from './did-you-mean.js';
import type { SizeMaximum } from './size-maxima.js';

/**
 * The longest delay a Node.js timer holds: 2^31 - 1 ms, about 24.8 days. A longer `setTimeout` fires after 1 ms
 * with a `TimeoutOverflowWarning`, so a timeout that long would fire at once and a backoff would not wait at all.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** Numbers as configuration files and `ConfigService` give them: `'3'`, ` 2.5 `, `'1e3'`, `'-1'`. */
const NUMERIC_STRING = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?\s*$/i;

/**
 * Checks one policy's options and throws a {@link ResilienceConfigError} whose message names the option, the value,
 * the policy kind and name, and where it was declared (for example `PaymentsService.charge`). The numeric checks
 * return the value as a number: a numeric string (as `ConfigService` gives it) is accepted and converted, anything
 * else of the wrong type is refused with the type received (`got the string "abc"`, `got an object`).
 */
export class OptionsValidator {
  constructor(
    private readonly kind: string,
    private readonly policy: string,
    private readonly declaredAt: string,
  ) {}

  /** Refuses option names not in `known`, with "did you mean" when a known name is close. */
  knownOptions(options: object, known: readonly string[]): void {
    for (const option of Object.keys(options)) {
      if (known.includes(option)) continue;
      throw new ResilienceConfigError(
        `Unknown ${this.kind} option "${option}" for policy "${this.policy}" (declared on ${this.declaredAt}).` +
          `${didYouMean(option, known)} Known options: ${known.join(', ')}`,
        this.policy,
      );
    }
  }

  /**
   * Refuses `value` unless it is an options object (not `null`, not an array), showing `example` as the shape
   * expected; then refuses option names not in `known`, as {@link knownOptions} does.
   */
  objectOptions(option: string, value: unknown, example: string | undefined, known: readonly string[]): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      const shape = example === undefined ? 'must be an object' : `must be an object such as ${example}`;
      this.fail(option, value, `${shape}, got ${typeOf(value)}`);
    }
    this.knownOptions(value, known);
  }

  /** A number, or a string holding one (converted). */
  number(option: string, value: unknown, rule: string): number {
    if (typeof value === 'number') return value;
    if (typeof value === 'string' && NUMERIC_STRING.test(value)) return Number(value);
    return this.fail(option, value, `${rule}, got ${typeOf(value)}`);
  }

  /** A finite number of milliseconds greater than zero, at most {@link MAX_TIMER_MS}. */
  positiveDuration(option: string, value: unknown): number {
    const rule = 'must be a finite number of milliseconds greater than 0';
    const duration = this.number(option, value, rule);
    if (!Number.isFinite(duration) || duration <= 0) this.fail(option, value, rule);
    return this.timerBound(option, value, duration);
  }

  /** A finite number of milliseconds, zero allowed, at most {@link MAX_TIMER_MS}. */
  nonNegativeDuration(option: string, value: unknown): number {
    const rule = 'must be a finite number of milliseconds >= 0';
    const duration = this.number(option, value, rule);
    if (!Number.isFinite(duration) || duration < 0) this.fail(option, value, rule);
    return this.timerBound(option, value, duration);
  }

  /** An integer no smaller than `min`. */
  integerAtLeast(option: string, value: unknown, min: number): number {
    const rule = `must be an integer >= ${min}`;
    const integer = this.number(option, value, rule);
    if (!Number.isInteger(integer) || integer < min) this.fail(option, value, rule);
    return integer;
  }

  /**
   * An integer from `min` to `max`: sizes and counts, whose maximum keeps one policy's memory bounded (an array or
   * a map sized by them is allocated per key or per breaker). `why`, when given, ends the message.
   */
  integerBetween(option: string, value: unknown, min: number, max: number, why?: string): number {
    const rule = `must be an integer from ${min} to ${max.toLocaleString('en-US')}`;
    const integer = this.number(option, value, rule);
    if (!Number.isInteger(integer) || integer < min) this.fail(option, value, rule);
    if (integer > max) this.fail(option, value, `${rule}, got ${typeOf(value)}${why === undefined ? '' : `: ${why}`}`);
    return integer;
  }

  /**
   * A size or count: an integer no smaller than `min` (refused as {@link integerAtLeast} does), and at most
   * `maximum.max`, refused above it with the reason for the bound ({@link SizeMaximum}).
   */
  boundedInteger(option: string, value: unknown, min: number, maximum: SizeMaximum): number {
    return this.atMost(option, value, this.integerAtLeast(option, value, min), maximum);
  }

  /** A finite number no smaller than `min` (as {@link numberAtLeast}), and at most `maximum.max`. */
  boundedNumber(option: string, value: unknown, min: number, maximum: SizeMaximum): number {
    return this.atMost(option, value, this.numberAtLeast(option, value, min), maximum);
  }

  /** A finite number no smaller than `min`. */
  numberAtLeast(option: string, value: unknown, min: number): number {
    const rule = `must be a finite number >= ${min}`;
    const number = this.number(option, value, rule);
    if (!Number.isFinite(number) || number < min) this.fail(option, value, rule);
    return number;
  }

  /** A boolean, or the string `'true'` / `'false'` (as `ConfigService` gives it). */
  boolean(option: string, value: unknown): boolean {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    return this.fail(option, value, `must be a boolean, got ${typeOf(value)}`);
  }

  /** A function, when given. */
  optionalFunction(option: string, value: unknown): void {
    if (value !== undefined && typeof value !== 'function') {
      this.fail(option, value, `must be a function, got ${typeOf(value)}`);
    }
  }

  /** An array of error classes, when given. */
  optionalErrorClasses(option: string, value: unknown): void {
    if (value === undefined) return;
    if (!Array.isArray(value)) this.fail(option, value, `must be an array of error classes, got ${typeOf(value)}`);
    const wrong = (value as unknown[]).find((entry) => typeof entry !== 'function');
    if (wrong !== undefined || (value as unknown[]).includes(undefined)) {
      this.fail(option, value, `must be an array of error classes, got an array holding ${typeOf(wrong)}`);
    }
  }

  /** One of `allowed` (with "did you mean" for a near miss). */
  oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    const expected = `must be one of ${allowed.map((entry) => `"${entry}"`).join(', ')}`;
    if (typeof value !== 'string') return this.fail(option, value, `${expected}, got ${typeOf(value)}`);
    return this.fail(option, value, `${expected}.${didYouMean(value, allowed)}`.replace(/\.$/, ''));
  }

  /** Throws for a rule that does not fit the helpers above. */
  fail(option: string, value: unknown, rule: string): never {
    throw new ResilienceConfigError(
      `Invalid ${this.kind} option "${option}" = ${describe(value)} for policy "${this.policy}" ` +
        `(declared on ${this.declaredAt}): ${rule}`,
      this.policy,
    );
  }

  private atMost(option: string, value: unknown, number: number, { max, why }: SizeMaximum): number {
    if (number > max)
      this.fail(option, value, `must be at most ${max.toLocaleString('en-US')}, got ${typeOf(value)}: ${why}`);
    return number;
  }

  private timerBound(option: string, value: unknown, duration: number): number {
    if (duration > MAX_TIMER_MS) {
      this.fail(
        option,
        value,
        `must be at most ${MAX_TIMER_MS} ms (2^31 - 1, about 24.8 days: the longest delay a Node.js timer holds)`,
      );
    }
    return duration;
  }
}

/** The value as it appears in a message: strings quoted, functions by name, objects as JSON when short. */
export function describe(value: unknown): string {
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    try {
      const json = JSON.stringify(value);
      return json.length <= 80 ? json : `${json.slice(0, 77)}...`;
    } catch {
      return '[object]';
    }
  }
  return String(value);
}

/** The type of a wrong value, as error messages name it: `the string "abc"`, `an object`, `null`. */
export function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return value.trim() === '' ? 'an empty string' : `the string ${JSON.stringify(value)}`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return `the boolean ${value}`;
    case 'function':
      return 'a function';
    case 'bigint':
      return `the bigint ${value}n`;
    case 'symbol':
      return 'a symbol';
    default:
      return 'an object';
  }
}
