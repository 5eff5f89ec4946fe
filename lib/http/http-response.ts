const decoder = new TextDecoder();

/**
 * The answer of `client.get/post/put/patch/delete`: its status, headers and body, read in full inside the attempt
 * (so the attempt timeout covers the body, and a body cut short is retried like any network error).
 */
export class HttpResponse {
  constructor(
    /** The status, 2xx or 3xx. */
    readonly status: number,
    /** The headers the upstream answered. */
    readonly headers: Headers,
    /** The body as read: `response.arrayBuffer()`'s buffer (no view made per call), or bytes. */
    private readonly body: ArrayBuffer | Uint8Array,
  ) {}

  /** True for 2xx. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /** The body as text (UTF-8). */
  text(): Promise<string> {
    return Promise.resolve(decoder.decode(this.body));
  }

  /** The body parsed as JSON; rejects with a `SyntaxError` when it is not. An empty body is `undefined`. */
  json<T = unknown>(): Promise<T> {
    try {
      const text = decoder.decode(this.body);
      return Promise.resolve((text === '' ? undefined : JSON.parse(text)) as T);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The body's bytes. */
  bytes(): Promise<Uint8Array> {
    const { body } = this;
    return Promise.resolve(body instanceof Uint8Array ? body : new Uint8Array(body));
  }
}
