import { policyDecorator } from './policy-decorator.js';
import type { FallbackFunction, FallbackOptions } from '../core/fallback/fallback.options.js';
import type { LastKnownGoodOptions } from '../core/fallback/last-known-good.options.js';
import { FALLBACK_METADATA, type FallbackSpec, type FallbackStepSpec } from './resilience.metadata.js';
export type { FallbackSpec, FallbackStepSpec } from './resilience.metadata.js';

/** `@Fallback({ value })`: the fixed value to answer with, and an optional error filter. */
export interface FallbackValueOptions extends FallbackOptions {
  /** The replacement result. */
  value: unknown;
}

/**
 * One step of a `@Fallback([...])` chain:
 * - `'cachedQuote'` or `{ method: 'cachedQuote', when }`: calls `this.cachedQuote(error, ...args)`;
 * - a function `(error, ...args) => result` or `{ fn, when }`;
 * - `{ value: [], when }`: a fixed value;
 * - `{ lastKnownGood: { maxAge: 60_000 }, when }`: the last successful result for the same call key, if it is at
 *   most `maxAge` ms old (see {@link LastKnownGoodOptions}).
 *
 * `when(error)` limits the errors a step applies to; a step that does not apply, has nothing to answer or fails
 * hands over to the next one.
 */
export type FallbackStep<TArgs extends unknown[] = never[]> =
  | string
  | FallbackFunction<TArgs>
  | (FallbackOptions & { method: string })
  | (FallbackOptions & { fn: FallbackFunction<TArgs> })
  | FallbackValueOptions
  | (FallbackOptions & { lastKnownGood: LastKnownGoodOptions });

/**
 * Answers a failed call with something else instead of the error. It runs outermost, after retries are exhausted.
 *
 * - `@Fallback('cachedQuote')`: calls `this.cachedQuote(error, ...originalArgs)`.
 * - `@Fallback((error, ...args) => defaultQuote)`: calls the function.
 * - `@Fallback({ value: [] })`: answers a fixed value.
 * - `@Fallback([{ lastKnownGood: { maxAge: 60_000 } }, 'cachedQuote', { value: [] }])`: a chain, tried in order:
 *   the first step that applies and answers wins. The caller gets an error only when every step that applied
 *   failed: the last step's error, with the original error as its `cause`. A step with nothing to answer (no fresh
 *   remembered result) hands over without failing; if no step answers, the original error propagates.
 *
 * The fallback may return a value, a Promise or an Observable. `when(error)` limits which errors it replaces
 * (default: all); each step of a chain may have its own `when` too. If a single fallback fails, that error reaches
 * the caller (with the original error as its `cause`).
 */
export function Fallback(method: string, options?: FallbackOptions): MethodDecorator;
export function Fallback(fn: FallbackFunction<never[]>, options?: FallbackOptions): MethodDecorator;
export function Fallback(options: FallbackValueOptions): MethodDecorator;
export function Fallback(chain: readonly FallbackStep[], options?: FallbackOptions): MethodDecorator;
export function Fallback(
  handler: string | FallbackFunction<never[]> | FallbackValueOptions | readonly FallbackStep[],
  options: FallbackOptions = {},
): MethodDecorator {
  let spec: FallbackSpec;
  if (typeof handler === 'string') spec = { steps: [{ method: handler }], when: options.when };
  else if (typeof handler === 'function') spec = { steps: [{ fn: handler }], when: options.when };
  else if (Array.isArray(handler))
    spec = { steps: (handler as readonly FallbackStep[]).map(stepSpec), when: options.when };
  else if (typeof handler === 'object' && handler !== null && !('value' in handler)) {
    // Not the single-value form (`{ lastKnownGood }` or `{ method }` from JavaScript, a typo such as `{ valu }`): one
    // step, which the bootstrap check builds or refuses by name, never a silent fallback to `undefined`.
    spec = { steps: [stepSpec(handler as unknown as FallbackStep)], when: options.when };
  } else {
    // The single-value form: its `when` filters the whole (one-step) chain, as it always did.
    const single = handler;
    spec = { steps: [{ value: single.value }], when: single.when };
  }
  return policyDecorator(FALLBACK_METADATA, spec);
}

/** The recorded form of a chain step; anything unrecognised is kept as is for the bootstrap check to name. */
function stepSpec(step: FallbackStep): FallbackStepSpec {
  if (typeof step === 'string') return { method: step };
  if (typeof step === 'function') return { fn: step };
  return step;
}
