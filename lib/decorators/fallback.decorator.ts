import { policyDecorator } from './policy-decorator.js';
import type { FallbackFunction, FallbackOptions } from '../core/fallback/fallback.options.js';
import { FALLBACK_METADATA } from './resilience.metadata.js';

/** What `@Fallback` records. */
export interface FallbackSpec extends FallbackOptions {
  /** A method of the same class, a function, or a fixed value. */
  readonly handler: { readonly method: string } | { readonly fn: FallbackFunction } | { readonly value: unknown };
}

/** `@Fallback({ value })`: the fixed value to answer with, and an optional error filter. */
export interface FallbackValueOptions extends FallbackOptions {
  /** The replacement result. */
  value: unknown;
}

/**
 * Answers a failed call with something else instead of the error. It runs outermost, after retries are exhausted.
 *
 * - `@Fallback('cachedQuote')`: calls `this.cachedQuote(error, ...originalArgs)`.
 * - `@Fallback((error, ...args) => defaultQuote)`: calls the function.
 * - `@Fallback({ value: [] })`: answers a fixed value.
 *
 * The fallback may return a value, a Promise or an Observable. `when(error)` limits which errors it replaces
 * (default: all). If the fallback itself fails, that error reaches the caller.
 */
export function Fallback(method: string, options?: FallbackOptions): MethodDecorator;
export function Fallback(fn: FallbackFunction<never[]>, options?: FallbackOptions): MethodDecorator;
export function Fallback(options: FallbackValueOptions): MethodDecorator;
export function Fallback(
  handler: string | FallbackFunction<never[]> | FallbackValueOptions,
  options: FallbackOptions = {},
): MethodDecorator {
  let spec: FallbackSpec;
  if (typeof handler === 'string') spec = { handler: { method: handler }, when: options.when };
  else if (typeof handler === 'function') spec = { handler: { fn: handler }, when: options.when };
  else spec = { handler: { value: handler.value }, when: handler.when };
  return policyDecorator(FALLBACK_METADATA, spec);
}
