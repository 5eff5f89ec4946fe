/** Stable machine-readable codes carried by every error this library throws. */
export type ResilienceErrorCode =
  | 'TIMEOUT'
  | 'BROKEN_CIRCUIT'
  | 'BULKHEAD_REJECTED'
  | 'RATE_LIMIT_EXCEEDED'
  | 'INVALID_CONFIGURATION'
  /** The registry was asked for a policy that does not exist (an admin endpoint should answer 404). */
  | 'UNKNOWN_POLICY'
  /** A shared store (Redis) did not answer in time; reported in store events, then decided by `onStoreError`. */
  | 'STORE_TIMEOUT'
  /** `@Idempotent`: the key is missing, malformed, reused with another payload, or its first request still runs. */
  | 'IDEMPOTENCY_KEY_MISSING'
  | 'IDEMPOTENCY_KEY_INVALID'
  | 'IDEMPOTENCY_KEY_MISMATCH'
  | 'IDEMPOTENCY_KEY_IN_FLIGHT'
  /** `@Idempotent`: the request's body was read by no body parser, so its payload cannot be fingerprinted. */
  | 'IDEMPOTENCY_BODY_UNREAD'
  /** `@Idempotent`: the idempotency store did not answer, and the request was refused rather than run unprotected. */
  | 'IDEMPOTENCY_STORE_UNAVAILABLE'
  /** A chaos experiment injected this fault (`ChaosFaultError`): retried and recorded like a downstream failure. */
  | 'CHAOS_FAULT'
  /** The process is overloaded and refused the request early (load shedding; HTTP 503 with `Retry-After`). */
  | 'LOAD_SHED'
  /** The caller's own `AbortSignal` gave the call up (`CallAbortedError`, named `AbortError`). */
  | 'ABORTED'
  /** A key or scope function returned something that is not a key (`undefined`, `''`, an object ...): HTTP 500. */
  | 'INVALID_KEY'
  /** `nest-resilience/http`: the upstream answered a status that is a failure (4xx, 5xx), after every policy. */
  | 'HTTP_STATUS'
  /** `nest-resilience/http`: no answer came (connection refused or reset, DNS), after every policy. */
  | 'NETWORK_ERROR'
  /** `nest-resilience/rabbitmq`: a publish was refused because the publisher's outbox is full (nothing was sent). */
  | 'RMQ_OUTBOX_FULL'
  /** `nest-resilience/rabbitmq`: a publish was neither confirmed nor parked (outbox store failed, publisher closed). */
  | 'RMQ_PUBLISH_FAILED';

/**
 * Base class of every error thrown by nest-resilience.
 * `code` is stable across versions (switch on it, not on the message); `policy` names the policy that failed.
 */
export abstract class ResilienceError extends Error {
  /** Stable error code, e.g. `TIMEOUT`. */
  abstract readonly code: ResilienceErrorCode;

  protected constructor(
    message: string,
    /** Name of the policy that raised the error (its configuration name, or `Class.method`). */
    readonly policy: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
