import { from, isObservable, lastValueFrom, of, type Observable } from 'rxjs';

/** A Promise of `value`: Observables settle with their last value (`undefined` when they complete empty). */
export function liftToPromise(value: unknown): Promise<unknown> {
  if (value instanceof Promise) return value;
  if (isObservable(value)) return lastValueFrom(value, { defaultValue: undefined });
  return Promise.resolve(value);
}

/** An Observable of `value`: Promises and thenables emit their result, plain values are emitted as they are. */
export function liftToObservable(value: unknown): Observable<unknown> {
  if (isObservable(value)) return value;
  if (isPromiseLike(value)) return from(value);
  return of(value);
}

/** True for Promises and thenables. */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
