import { ResilienceError } from './resilience.error.js';

/**
 * Base of the errors that refuse a request because of its `Idempotency-Key` (HTTP: `application/problem+json`
 * bodies, RFC 9457). `status` is the HTTP status it is answered with.
 */
export abstract class IdempotencyKeyError extends ResilienceError {
  abstract readonly status: number;
}

/** `@Idempotent({ required: true })` and the request has no `Idempotency-Key` (HTTP 400, `IDEMPOTENCY_KEY_MISSING`). */
export class IdempotencyKeyMissingError extends IdempotencyKeyError {
  readonly code = 'IDEMPOTENCY_KEY_MISSING';
  readonly status = 400;

  constructor(policy: string) {
    super('This request needs an Idempotency-Key header', policy);
  }
}

/**
 * The `Idempotency-Key` is malformed: not a token or quoted string of 1 to 255 visible ASCII characters
 * (HTTP 400, `IDEMPOTENCY_KEY_INVALID`).
 */
export class IdempotencyKeyInvalidError extends IdempotencyKeyError {
  readonly code = 'IDEMPOTENCY_KEY_INVALID';
  readonly status = 400;

  constructor(policy: string) {
    super('The Idempotency-Key header must be a token or a quoted string of 1 to 255 visible ASCII characters', policy);
  }
}

/** The key was used before with a different request (another body or path): HTTP 422, `IDEMPOTENCY_KEY_MISMATCH`. */
export class IdempotencyKeyMismatchError extends IdempotencyKeyError {
  readonly code = 'IDEMPOTENCY_KEY_MISMATCH';
  readonly status = 422;

  constructor(policy: string) {
    super('This Idempotency-Key was already used with a different request payload', policy);
  }
}

/**
 * A request with the same key is still running: HTTP 409 with `Retry-After`, `IDEMPOTENCY_KEY_IN_FLIGHT`. Retry
 * later to receive its answer.
 */
export class IdempotencyKeyInFlightError extends IdempotencyKeyError {
  readonly code = 'IDEMPOTENCY_KEY_IN_FLIGHT';
  readonly status = 409;

  constructor(
    policy: string,
    /** Milliseconds after which a retry may find the answer. */
    readonly retryAfterMs: number,
  ) {
    super('A request with this Idempotency-Key is still being processed', policy);
  }
}

/**
 * The idempotency store could not answer and `onStoreError` is `'deny'` (the default: never run a payment twice):
 * HTTP 503, `IDEMPOTENCY_STORE_UNAVAILABLE`. The store's error is the `cause`.
 */
export class IdempotencyStoreUnavailableError extends IdempotencyKeyError {
  readonly code = 'IDEMPOTENCY_STORE_UNAVAILABLE';
  readonly status = 503;

  constructor(policy: string, cause: unknown) {
    super('The idempotency store did not answer; the request was not run', policy, { cause });
  }
}

/**
 * The request has a body that no body parser read (on Express: `text/plain`, XML, `application/octet-stream` without
 * a parser for it), so it cannot be told apart from another payload sent under the same key: HTTP 415,
 * `IDEMPOTENCY_BODY_UNREAD`. Add a parser for the type (`app.useBodyParser('text')`, `express.raw()`), or give
 * `@Idempotent` a `fingerprint` function.
 */
export class IdempotencyBodyUnreadError extends IdempotencyKeyError {
  readonly code = 'IDEMPOTENCY_BODY_UNREAD';
  readonly status = 415;

  constructor(
    policy: string,
    /** The request's `Content-Type`, as sent. */
    readonly contentType: string | undefined,
  ) {
    super(
      `This request's ${contentType ?? 'untyped'} body was not read by any body parser, so an Idempotency-Key ` +
        'cannot vouch for it',
      policy,
    );
  }
}
