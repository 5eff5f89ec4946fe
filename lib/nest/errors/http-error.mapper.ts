import { HttpException, HttpStatus } from '@nestjs/common';
import { BrokenCircuitError } from '../../core/errors/broken-circuit.error.js';
import { IdempotencyKeyError, IdempotencyKeyInFlightError } from '../../core/errors/idempotency-key.error.js';
import { BulkheadRejectedError } from '../../core/errors/bulkhead-rejected.error.js';
import { LoadShedError } from '../../core/errors/load-shed.error.js';
import { RateLimitExceededError } from '../../core/errors/rate-limit-exceeded.error.js';
import { ResilienceError } from '../../core/errors/resilience.error.js';

/** The HTTP answer for a resilience error: the exception to throw and an optional `Retry-After` in seconds. */
export interface HttpAnswer {
  readonly exception: HttpException;
  readonly retryAfterSeconds?: number;
  /** The `Content-Type` of the body when it is not plain JSON: `application/problem+json` for idempotency errors. */
  readonly contentType?: string;
}

const STATUS_BY_CODE: Partial<Record<ResilienceError['code'], HttpStatus>> = {
  TIMEOUT: HttpStatus.GATEWAY_TIMEOUT,
  BROKEN_CIRCUIT: HttpStatus.SERVICE_UNAVAILABLE,
  BULKHEAD_REJECTED: HttpStatus.SERVICE_UNAVAILABLE,
  RATE_LIMIT_EXCEEDED: HttpStatus.TOO_MANY_REQUESTS,
  // A chaos experiment's fault stands for a downstream that failed.
  CHAOS_FAULT: HttpStatus.SERVICE_UNAVAILABLE,
  // An admin endpoint asking the registry for a breaker that does not exist.
  UNKNOWN_POLICY: HttpStatus.NOT_FOUND,
  // The process is overloaded: another replica, or this one a little later, can serve it.
  LOAD_SHED: HttpStatus.SERVICE_UNAVAILABLE,
  // A key or scope function returned no key: the application's own code is at fault, not the client's request.
  INVALID_KEY: HttpStatus.INTERNAL_SERVER_ERROR,
};

const REASON_BY_STATUS: Partial<Record<HttpStatus, string>> = {
  [HttpStatus.GATEWAY_TIMEOUT]: 'Gateway Timeout',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'Service Unavailable',
  [HttpStatus.TOO_MANY_REQUESTS]: 'Too Many Requests',
  [HttpStatus.NOT_FOUND]: 'Not Found',
  [HttpStatus.INTERNAL_SERVER_ERROR]: 'Internal Server Error',
};

/**
 * Maps a resilience error to its HTTP answer: timeout -> 504, open circuit or full bulkhead -> 503, rate limited
 * -> 429, load shed -> 503, a key function that returned no key -> 500. The JSON body names the policy and carries
 * the stable `code` (and a load shed's `reason`). Other errors give `undefined`.
 */
export function toHttpAnswer(error: unknown, now = Date.now()): HttpAnswer | undefined {
  if (!(error instanceof ResilienceError)) return undefined;
  if (error instanceof IdempotencyKeyError) return problemAnswer(error, now);
  const status = STATUS_BY_CODE[error.code];
  if (status === undefined) return undefined;
  const body = {
    statusCode: status,
    error: REASON_BY_STATUS[status],
    message: error.message,
    code: error.code,
    policy: error.policy,
    ...(error instanceof LoadShedError ? { reason: error.reason } : {}),
  };
  return {
    exception: new HttpException(body, status, { cause: error }),
    retryAfterSeconds: retryAfterSeconds(error, now),
  };
}

/** An `@Idempotent` refusal as an RFC 9457 problem: `type`, `title`, `status`, `detail`, plus `code` and `policy`. */
function problemAnswer(error: IdempotencyKeyError, now: number): HttpAnswer {
  const body = {
    type: `urn:nest-resilience:${error.code.toLowerCase().replaceAll('_', '-')}`,
    title: error.message,
    status: error.status,
    detail: error.message,
    code: error.code,
    policy: error.policy,
  };
  return {
    exception: new HttpException(body, error.status, { cause: error }),
    retryAfterSeconds: retryAfterSeconds(error, now),
    contentType: 'application/problem+json',
  };
}

/** Seconds until a retry may succeed: known for rate limits and open circuits. */
export function retryAfterSeconds(error: ResilienceError, now: number): number | undefined {
  if (error instanceof IdempotencyKeyInFlightError) return Math.max(1, Math.ceil(error.retryAfterMs / 1000));
  // An adaptive limit moves with every completed call: a second is a fair guess of when there is room again.
  if (error instanceof BulkheadRejectedError && error.reason === 'limit') return 1;
  if (error instanceof LoadShedError) return Math.max(1, Math.ceil(error.retryAfterMs / 1000));
  if (error instanceof RateLimitExceededError) return Math.max(1, Math.ceil(error.retryAfterMs / 1000));
  if (error instanceof BrokenCircuitError && error.retryAt !== undefined) {
    return Math.max(1, Math.ceil((error.retryAt - now) / 1000));
  }
  return undefined;
}
