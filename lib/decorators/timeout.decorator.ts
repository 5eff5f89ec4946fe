import type { TimeoutOptions } from '../core/timeout/timeout.options.js';
import { TIMEOUT_METADATA } from './resilience.metadata.js';
import { policyDecorator, policySpec } from './policy-decorator.js';

/**
 * Abandons a call that takes too long: services get a `TimeoutError`, controllers answer HTTP 504. Observables are
 * unsubscribed; Promise methods can read `getTimeoutSignal()` (controllers: `@TimeoutSignal()`) to stop their work.
 * Per attempt when combined with `@Retry`; set `total` for a budget across all attempts.
 *
 * @example `@Timeout(2000)`, `@Timeout({ duration: 2000, total: 5000 })`, `@Timeout('payments')`,
 *          `@Timeout('payments', { duration: 2000 })`,
 *          `@Timeout({ duration: 2000, adaptive: { percentile: 99, margin: 50, min: 100 } })`.
 *          Default duration: 10 000 ms.
 */
export function Timeout(duration?: number): MethodDecorator;
export function Timeout(options: Partial<TimeoutOptions>): MethodDecorator;
export function Timeout(name: string, options?: Partial<TimeoutOptions>): MethodDecorator;
export function Timeout(
  nameOrOptions?: string | number | Partial<TimeoutOptions>,
  options?: Partial<TimeoutOptions>,
): MethodDecorator {
  const spec =
    typeof nameOrOptions === 'number' ? { options: { duration: nameOrOptions } } : policySpec(nameOrOptions, options);
  return policyDecorator(TIMEOUT_METADATA, spec);
}
