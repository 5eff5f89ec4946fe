/** Query parameters: a `URLSearchParams`, or an object (arrays repeat the name; `undefined`, `null` left out). */
export type HttpQuery =
  | URLSearchParams
  | Readonly<Record<string, string | number | boolean | null | undefined | readonly (string | number | boolean)[]>>;

/** Options of one call of `get`, `post`, `put`, `patch`, `delete` and `request`. */
export interface HttpRequestOptions {
  /** A value sent as JSON (`Content-Type: application/json` unless the headers say otherwise). */
  json?: unknown;
  /**
   * A body sent as is (string, `URLSearchParams`, `FormData`, `Blob`, bytes). A `ReadableStream` can be sent only
   * once: such a request is never retried or hedged.
   */
  body?: HttpBody;
  /** Headers of this call, over the client's. */
  headers?: HttpHeadersInit;
  /** Query parameters appended to the URL. */
  query?: HttpQuery;
  /** The caller's cancellation: aborting it ends the call at once (attempt, backoff, queue) with an `AbortError`. */
  signal?: AbortSignal;
  /** A deadline of this call in ms, retries included, beside the client's `totalTimeout`. Default: none. */
  timeout?: number;
  /**
   * The `Idempotency-Key` of this call (sent on every attempt), or `false` to send none. Default: a key for the
   * methods of the client's `idempotencyKey.methods`, derived from the inbound request's key inside a keyed
   * `@Idempotent` handler, else random.
   */
  idempotencyKey?: string | false;
}

/** A request body fetch accepts (`RequestInit['body']`). */
export type HttpBody = NonNullable<RequestInit['body']>;
/** Headers fetch accepts (`RequestInit['headers']`). */
export type HttpHeadersInit = NonNullable<RequestInit['headers']>;
