import { deepFreeze } from '../validation/deep-freeze.js';
import type { OptionsValidator } from '../validation/options.validator.js';
import { withoutUndefined } from '../validation/without-undefined.js';

/** Options of `@DeadLetter`. */
export interface DeadLetterOptions {
  /** The queue's name; methods naming the same queue share it. Default: `Class.method`. */
  name?: string;
  /** Only final errors for which this returns `true` are dead-lettered; others fail the handler. Default: all. */
  when?: (error: unknown) => boolean;
  /**
   * An open circuit is dead-lettered only when it stays open longer than this (ms, from its `retryAt`; a forced-open
   * circuit always counts as longer); a shorter opening fails the handler, so the broker redelivers the message once
   * the circuit may have closed. Default `30_000`.
   */
  openCircuitLimit?: number;
}

/** A validated `@DeadLetter` configuration. */
export interface ResolvedDeadLetterOptions {
  readonly name: string | undefined;
  readonly when: ((error: unknown) => boolean) | undefined;
  readonly openCircuitLimit: number;
}

/** Library defaults of `@DeadLetter`. */
export const DEFAULT_DEAD_LETTER_OPTIONS = deepFreeze({ openCircuitLimit: 30_000 });

const DEAD_LETTER_OPTION_NAMES = ['name', 'when', 'openCircuitLimit'];

/** Checks `@DeadLetter` options; returns them normalized. */
export function validateDeadLetterOptions(
  options: Partial<DeadLetterOptions>,
  validator: OptionsValidator,
): ResolvedDeadLetterOptions {
  validator.objectOptions('options', options, "{ name: 'orders' }", DEAD_LETTER_OPTION_NAMES);
  validator.optionalFunction('when', options.when);
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    validator.fail('name', options.name, 'must be a non-empty string');
  }
  const merged = { ...DEFAULT_DEAD_LETTER_OPTIONS, ...withoutUndefined(options) };
  return {
    name: options.name,
    when: options.when,
    openCircuitLimit: validator.nonNegativeDuration('openCircuitLimit', merged.openCircuitLimit),
  };
}
