import type { BulkheadOptions } from '../core/bulkhead/bulkhead.options.js';
import { BULKHEAD_METADATA } from './resilience.metadata.js';
import { policyDecorator, policySpec } from './policy-decorator.js';

/**
 * Isolates a downstream: at most `maxConcurrent` calls run at once, up to `maxQueue` wait (at most `maxWait` ms),
 * the rest are rejected with `BulkheadRejectedError` (HTTP 503 on controllers). Methods naming the same
 * configuration share one bulkhead; `key` partitions it (per tenant, per host).
 *
 * @example `@Bulkhead({ maxConcurrent: 5, maxQueue: 20, maxWait: 1000 })`, `@Bulkhead('reports')`.
 *          Defaults: maxConcurrent 10, maxQueue 0.
 */
export function Bulkhead(options?: Partial<BulkheadOptions>): MethodDecorator;
export function Bulkhead(name: string, options?: Partial<BulkheadOptions>): MethodDecorator;
export function Bulkhead(
  nameOrOptions?: string | Partial<BulkheadOptions>,
  options?: Partial<BulkheadOptions>,
): MethodDecorator {
  return policyDecorator(BULKHEAD_METADATA, policySpec(nameOrOptions, options));
}
