import type { CircuitBreakerOptions } from '../core/circuit-breaker/circuit-breaker.options.js';
import { CIRCUIT_BREAKER_METADATA } from './resilience.metadata.js';
import { policyDecorator, policySpec } from './policy-decorator.js';

/**
 * Stops calling a downstream that keeps failing: once the failure rate (or slow-call rate) of the recent calls
 * crosses its threshold the breaker opens and calls fail at once with `BrokenCircuitError` (HTTP 503 with
 * `Retry-After` on controllers); after `openDuration` a few probe calls decide whether it closes again.
 * The breaker is named after its configuration, or `Class.method` for inline options; methods naming the same
 * configuration share one breaker.
 *
 * @example `@CircuitBreaker('payments')`, `@CircuitBreaker({ consecutiveFailures: 5, openDuration: 10_000 })`,
 *          `@CircuitBreaker('payments', { minimumCalls: 10 })`.
 */
export function CircuitBreaker(options?: Partial<CircuitBreakerOptions>): MethodDecorator;
export function CircuitBreaker(name: string, options?: Partial<CircuitBreakerOptions>): MethodDecorator;
export function CircuitBreaker(
  nameOrOptions?: string | Partial<CircuitBreakerOptions>,
  options?: Partial<CircuitBreakerOptions>,
): MethodDecorator {
  return policyDecorator(CIRCUIT_BREAKER_METADATA, policySpec(nameOrOptions, options));
}
