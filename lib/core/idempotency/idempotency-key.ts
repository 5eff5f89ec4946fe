/** The longest key accepted, as the IETF draft and Stripe allow. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** A bare key: visible ASCII, without the characters that delimit structured fields (quote, backslash, comma). */
const BARE_KEY = /^[\x21\x23-\x2B\x2D-\x5B\x5D-\x7E]{1,255}$/;
/** An RFC 8941 sf-string: printable ASCII between quotes, with `\"` and `\\` as the only escapes. */
const QUOTED_KEY = /^"((?:[\x20\x21\x23-\x5B\x5D-\x7E]|\\["\\])*)"$/;
/** What a key may hold once unquoted: visible ASCII (a space is not visible). */
const VISIBLE_ASCII = /^[\x21-\x7E]{1,255}$/;

/**
 * The key an `Idempotency-Key` header carries: a bare token or an RFC 8941 quoted string (the IETF draft's form),
 * unescaped. `undefined` when the value is malformed: empty, several values, longer than 255 characters, or not
 * visible ASCII (spaces included).
 */
export function parseIdempotencyKey(header: string): string | undefined {
  const value = header.trim();
  if (!value.startsWith('"')) return BARE_KEY.test(value) ? value : undefined;
  const quoted = QUOTED_KEY.exec(value);
  if (quoted === null) return undefined;
  const key = quoted[1].replace(/\\(["\\])/g, '$1');
  return VISIBLE_ASCII.test(key) ? key : undefined;
}
