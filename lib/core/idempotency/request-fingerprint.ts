import { hash } from 'node:crypto';

/**
 * JSON with the keys of every object sorted, so that `{"a":1,"b":2}` and `{"b":2,"a":1}` read the same. Like
 * `JSON.stringify` otherwise: `undefined` and functions are left out of objects, `toJSON` is honoured.
 */
export function canonicalJson(value: unknown): string {
  // Most bodies are already canonical (a client serializes one type the same way every time, often in key order):
  // then the native stringify of the body itself is the answer, without copying every object to sort it.
  return JSON.stringify(isCanonical(value) ? value : sortKeys(value)) ?? 'null';
}

/**
 * Whether `JSON.stringify(value)` is already canonical: plain objects (as `JSON.parse` makes them) whose keys are in
 * sorted order at every depth, arrays, primitives. Anything else (`toJSON`, class instances, boxed primitives) goes
 * the sorting way, which writes them as canonical JSON always did (a boxed number as `{}`, for one).
 */
function isCanonical(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) if (!isCanonical(value[index])) return false;
    return true;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return false;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  const keys = Object.keys(value);
  for (let index = 0; index < keys.length; index++) {
    if (index > 0 && !(keys[index - 1] < keys[index])) return false;
    if (!isCanonical((value as Record<string, unknown>)[keys[index]])) return false;
  }
  return true;
}

/** A copy with the keys of every object in sorted order, for the native `JSON.stringify` (faster than writing it). */
function sortKeys(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const json = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof json === 'function') return sortKeys(json.call(value));
  if (Array.isArray(value)) return value.map(sortKeys);
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = sortKeys((value as Record<string, unknown>)[key]);
    // A body's own `__proto__` key is data (the shortcut above keeps it): assigned, it would set the prototype.
    if (key === '__proto__') Object.defineProperty(sorted, key, { value: member, enumerable: true, writable: true });
    else sorted[key] = member;
  }
  return sorted;
}

/** Only the listed top-level fields of a body (a field the body lacks is left out). */
export function pickFields(body: unknown, fields: readonly string[]): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  if (typeof body !== 'object' || body === null) return picked;
  for (const field of fields) {
    if (Object.hasOwn(body, field)) picked[field] = (body as Record<string, unknown>)[field];
  }
  return picked;
}

/**
 * The longest request text (`METHOD path\n` and the canonical JSON) that serves as its own fingerprint when the store
 * keeps records in this process: about the size of a digest's record overhead, so the byte bound barely notices.
 */
export const MAX_EXACT_FINGERPRINT_LENGTH = 256;

/**
 * What makes two requests "the same": their method, path and the canonical JSON of what the fingerprint covers.
 *
 * By default a SHA-256 digest (43 characters), stored with the record instead of the body: a large body costs 43
 * bytes, a store in Redis holds no payload, and two payloads never pass for one another. With `exact` (stores that
 * keep records in this process only: see `IdempotencyStore#exactFingerprints`), a text up to
 * {@link MAX_EXACT_FINGERPRINT_LENGTH} characters is returned as it is: comparing it is exact too, and hashing it
 * cost more than the rest of the request's idempotency. The two forms never equal each other: a text always holds
 * a space and a line break, a base64url digest never does.
 */
export function requestFingerprint(method: string, path: string, covered: unknown, exact = false): string {
  const text = `${method} ${path}\n${canonicalJson(covered)}`;
  if (exact && text.length <= MAX_EXACT_FINGERPRINT_LENGTH) return text;
  // The one-shot `hash` (Node 20.12+): a third of the cost of a `createHash` object for inputs this small.
  return hash('sha256', text, 'base64url');
}
