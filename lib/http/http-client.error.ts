import { inspect, type InspectOptionsStylized } from 'node:util';
import { ResilienceError } from '../core/errors/resilience.error.js';

/** What an `HttpClientError`'s `code` says went wrong. */
export type HttpClientErrorCode =
  /** The upstream answered a failure status (4xx, 5xx): `status` and `bodyExcerpt` say which. */
  | 'HTTP_STATUS'
  /** No answer came: connection refused or reset, DNS failure (`cause` is fetch's error). */
  | 'NETWORK_ERROR'
  /** An attempt timeout, the total timeout or the call's own `timeout` expired. */
  | 'TIMEOUT'
  /** The origin's circuit breaker is open: the request was not sent. */
  | 'BROKEN_CIRCUIT'
  /** The origin's bulkhead is full: the request was not sent. */
  | 'BULKHEAD_REJECTED'
  /** The origin's rate limit has no token left: the request was not sent. */
  | 'RATE_LIMIT_EXCEEDED';

/**
 * Which part of the pipeline ended the call: `retry` (every attempt failed), `not-retried` (a failure that is not
 * retried: a 4xx, or a request that may not be repeated), `attempt-timeout`, `total-timeout`, `call-timeout` (the
 * call's own `timeout`), `circuit-breaker`, `bulkhead`, `rate-limit`.
 */
export type HttpGiveUp =
  | 'retry'
  | 'not-retried'
  | 'attempt-timeout'
  | 'total-timeout'
  | 'call-timeout'
  | 'circuit-breaker'
  | 'bulkhead'
  | 'rate-limit';

/** What an `HttpClientError` is made of. */
export interface HttpClientErrorInit {
  readonly code: HttpClientErrorCode;
  readonly client: string;
  readonly method: string;
  readonly origin: string;
  readonly path: string;
  readonly status?: number;
  readonly headers?: Headers;
  readonly bodyExcerpt?: string;
  readonly attempts?: number;
  readonly gaveUp?: HttpGiveUp;
  /** The policy's name in the registry (`<client> <origin>`), when a policy refused or gave up. */
  readonly policy?: string;
  readonly cause?: unknown;
}

/**
 * Header names whose values may be secrets (`Set-Cookie`, `Authorization`, `X-Api-Key`, an `Idempotency-Key`
 * echoed back, session and signature headers): their values never reach a log line.
 */
const SECRET_HEADER = /auth|cookie|token|secret|key|session|signature|password|credential/i;

/** A header's value as a log line may show it: `[redacted]` for a name that may carry a secret. */
function loggable(name: string, value: string): string {
  return SECRET_HEADER.test(name) ? '[redacted]' : value;
}

/**
 * A `ResilientHttpClient` call did not get an answer it can hand over (2xx or 3xx). Its message names the client,
 * method, origin, path and status, never a header value, the query string or a body; `bodyExcerpt` holds the start of
 * the upstream's answer, bounded (`maxBodyExcerpt`). Logged (`console.log`, `util.inspect`, `JSON.stringify`, a
 * logger that serialises errors), it shows its fields with the values of secret-looking headers (`Set-Cookie`,
 * `Authorization`, `*-Key`, `*-Token` ...) redacted and the body excerpt as its length only: read `headers` and
 * `bodyExcerpt` themselves for the values.
 */
export class HttpClientError extends ResilienceError {
  readonly code: HttpClientErrorCode;
  /** The client's name. */
  readonly client: string;
  /** The request's method. */
  readonly method: string;
  /** The URL's origin (`https://api.example.com`). */
  readonly origin: string;
  /** The URL's path, without the query string. */
  readonly path: string;
  /** The last answer's status; `undefined` when none came. */
  readonly status: number | undefined;
  /** The last answer's headers (`Retry-After` ...); `undefined` when none came. */
  readonly headers: Headers | undefined;
  /** The start of the last answer's body (at most `maxBodyExcerpt` characters); `undefined` when none came. */
  readonly bodyExcerpt: string | undefined;
  /** Attempts made, retries and hedged attempts included. */
  attempts: number;
  /** What ended the call (see {@link HttpGiveUp}). */
  gaveUp: HttpGiveUp;

  constructor(init: HttpClientErrorInit) {
    super(messageOf(init), init.policy ?? init.client, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.client = init.client;
    this.method = init.method;
    this.origin = init.origin;
    this.path = init.path;
    this.status = init.status;
    this.headers = init.headers;
    this.bodyExcerpt = init.bodyExcerpt;
    this.attempts = init.attempts ?? 1;
    this.gaveUp = init.gaveUp ?? 'not-retried';
  }

  /** What `JSON.stringify` (and loggers that serialise errors) show: no secret header value, no body. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, ...this.loggableFields() };
  }

  /** What `console.log` and `util.inspect` show: the stack, then the fields as {@link toJSON} gives them. */
  [inspect.custom](_depth: number, options: InspectOptionsStylized): string {
    const fields: Record<string, unknown> = this.loggableFields();
    if (this.cause !== undefined) fields.cause = this.cause;
    return `${this.stack ?? `${this.name}: ${this.message}`} ${inspect(fields, options)}`;
  }

  private loggableFields(): Record<string, unknown> {
    let headers: Record<string, string> | undefined;
    if (this.headers !== undefined) {
      headers = {};
      for (const [name, value] of this.headers) headers[name] = loggable(name, value);
    }
    return {
      code: this.code,
      client: this.client,
      method: this.method,
      origin: this.origin,
      path: this.path,
      status: this.status,
      attempts: this.attempts,
      gaveUp: this.gaveUp,
      policy: this.policy,
      headers,
      bodyExcerpt: this.bodyExcerpt === undefined ? undefined : `[${this.bodyExcerpt.length} characters, not logged]`,
    };
  }
}

function messageOf({ code, client, method, origin, path, status, cause }: HttpClientErrorInit): string {
  const request = `${method} ${origin}${path}`;
  switch (code) {
    case 'HTTP_STATUS':
      return `HTTP client "${client}": ${request} answered ${status}`;
    case 'NETWORK_ERROR':
      return `HTTP client "${client}": ${request} failed: ${networkReason(cause)}`;
    default:
      return `HTTP client "${client}": ${request} gave up: ${cause instanceof Error ? cause.message : code}`;
  }
}

/** fetch's `TypeError: fetch failed` hides the reason in `cause` (`ECONNREFUSED`, `UND_ERR_SOCKET` ...). */
function networkReason(error: unknown): string {
  const inner = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof inner?.code === 'string') return inner.code;
  if (error instanceof Error) return error.message;
  return 'no answer';
}
