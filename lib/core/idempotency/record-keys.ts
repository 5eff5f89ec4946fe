/**
 * The store keys of one handler's records: `JSON.stringify([policy, method, scope, key])`, the format the stores
 * already hold (a changed format would make a retry across a rolling deploy run twice). Per request only the scope and
 * the key are quoted: the `["policy","METHOD",` prefix is built once per method.
 */
export class IdempotencyRecordKeys {
  private readonly prefixes = new Map<string, string>();

  constructor(private readonly policy: string) {}

  /** The key of the record for `key` sent with `method`, owned by `scope` (`''` when the handler has no scope). */
  of(method: string, scope: string, key: string): string {
    let prefix = this.prefixes.get(method);
    if (prefix === undefined) {
      // Bounded: only the handler's configured methods reach this (others run without idempotency).
      prefix = JSON.stringify([this.policy, method]).slice(0, -1);
      this.prefixes.set(method, prefix);
    }
    return `${prefix},${quote(scope)},${quote(key)}]`;
  }
}

/**
 * `JSON.stringify(text)`, quoting printable ASCII without escapes (every valid `Idempotency-Key` but those with a
 * quote or a backslash) by concatenation: half the cost of the call, on every request.
 */
export function quote(text: string): string {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code > 0x7e || code === 0x22 || code === 0x5c) return JSON.stringify(text);
  }
  return `"${text}"`;
}
