/**
 * A fallback function: receives the error and the decorated method's arguments, returns the replacement result
 * (a value, a Promise or an Observable).
 */
export type FallbackFunction<TArgs extends unknown[] = never[], TResult = unknown> = (
  error: unknown,
  ...args: TArgs
) => TResult;

/** Options of `@Fallback`. */
export interface FallbackOptions {
  /** Only errors for which this returns `true` are replaced; others propagate. Default: every error. */
  when?: (error: unknown) => boolean;
}
