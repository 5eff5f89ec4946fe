import type { RetryOptions } from '../core/retry/retry.options.js';
import { RETRY_METADATA } from './resilience.metadata.js';
import { policyDecorator, policySpec } from './policy-decorator.js';

/**
 * Calls the method again after a transient failure, with exponential backoff and jitter by default.
 * `maxAttempts` counts every attempt, the first included (default 3). Open circuits, full bulkheads, rate limits
 * and HTTP 4xx other than 408/429 are not retried. On controllers only idempotent HTTP methods are retried unless
 * `retryNonIdempotent` is set.
 *
 * @example `@Retry()`, `@Retry({ maxAttempts: 5, backoff: 'linear' })`, `@Retry('payments')`,
 *          `@Retry('payments', { maxAttempts: 2 })`.
 */
export function Retry(options?: Partial<RetryOptions>): MethodDecorator;
export function Retry(name: string, options?: Partial<RetryOptions>): MethodDecorator;
export function Retry(
  nameOrOptions?: string | Partial<RetryOptions>,
  options?: Partial<RetryOptions>,
): MethodDecorator {
  return policyDecorator(RETRY_METADATA, policySpec(nameOrOptions, options));
}
