import { TimeoutError } from '../core/errors/timeout.error.js';
import { ResilienceError } from '../core/errors/resilience.error.js';

/** Statuses a retry may cure (as .NET's standard handler and RFC 9110 say): 408, 429 and the gateway 5xx. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** Methods RFC 9110 calls idempotent: sending them twice has the effect of sending them once. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Whether an answer with `status` is worth another attempt. */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

/**
 * Whether a request may be sent more than once (retried, hedged): an idempotent method, or any method carrying an
 * idempotency key the upstream can deduplicate on.
 */
export function isRepeatable(method: string, hasIdempotencyKey: boolean): boolean {
  return hasIdempotencyKey || IDEMPOTENT_METHODS.has(method);
}

/**
 * The default rule of retries: a network error, an attempt that timed out, or a retryable status. Nothing else: a
 * 4xx will fail the same way again.
 */
export function isRetryableHttpFailure(error: unknown): boolean {
  if (error instanceof TimeoutError) return error.scope === 'attempt';
  if (!(error instanceof ResilienceError)) return false;
  if (error.code === 'NETWORK_ERROR') return true;
  const status = (error as { status?: unknown }).status;
  return error.code === 'HTTP_STATUS' && typeof status === 'number' && isRetryableStatus(status);
}

/**
 * The default `recordIf` of a client's breakers: the failures that say the upstream is unwell (network errors,
 * timeouts, 408, 429, 5xx), not a 404 or a 422, which say the request was wrong.
 */
export function isTransientHttpFailure(error: unknown): boolean {
  if (error instanceof TimeoutError) return true;
  if (!(error instanceof ResilienceError)) return true;
  if (error.code === 'NETWORK_ERROR') return true;
  if (error.code !== 'HTTP_STATUS') return true;
  const status = (error as { status?: unknown }).status;
  return typeof status !== 'number' || status >= 500 || isRetryableStatus(status);
}
