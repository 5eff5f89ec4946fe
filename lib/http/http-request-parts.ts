import type { HttpQuery } from './http-request.options.js';

/** The client's headers when it has none: a call without headers of its own sends none either. */
export const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** `headers` checked by `Headers` and with lower-cased names; `undefined` when `Headers` rejects them. */
export function plainHeadersOf(
  headers: Readonly<Record<string, string>>,
): Readonly<Record<string, string>> | undefined {
  let checked: Headers;
  try {
    checked = new Headers(headers);
  } catch {
    return undefined;
  }
  const plain: Record<string, string> = {};
  checked.forEach((value, name) => (plain[name] = value));
  return Object.keys(plain).length === 0 ? NO_HEADERS : Object.freeze(plain);
}

/** Appends `query` to `url`: arrays repeat the name, `undefined` and `null` are left out. */
export function appendQuery(url: URL, query: HttpQuery): void {
  if (query instanceof URLSearchParams) {
    query.forEach((value, name) => url.searchParams.append(name, value));
    return;
  }
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const each of value as unknown[]) url.searchParams.append(name, String(each));
    else url.searchParams.append(name, String(value));
  }
}
