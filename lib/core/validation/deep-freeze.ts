/**
 * Freezes `value` and every plain object or array it holds, so that exported defaults cannot be changed by user code
 * (a change would silently alter every policy of every application in the process). Functions are left alone.
 */
export function deepFreeze<T>(value: T): Readonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const nested of Object.values(value)) deepFreeze(nested);
  }
  return value;
}
