/** Drops `undefined` fields so that `{ maxAttempts: undefined }` does not erase a default when spread over it. */
export function withoutUndefined<T extends object>(options: T | undefined): Partial<T> {
  if (!options) return {};
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
