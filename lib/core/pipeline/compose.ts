import type { ObservableStep, PromiseStep, ResiliencePolicy } from './policy.interface.js';

/**
 * Chains `policies` (outermost first) around `terminal` into one Promise step. Runs once per method at bootstrap,
 * so the per-call path is a fixed chain of steps with no lookups.
 */
export function composePromise(policies: readonly ResiliencePolicy[], terminal: PromiseStep): PromiseStep {
  return policies.reduceRight<PromiseStep>((next, policy) => policy.wrapPromise(next), terminal);
}

/** Chains `policies` (outermost first) around `terminal` into one Observable step. */
export function composeObservable(policies: readonly ResiliencePolicy[], terminal: ObservableStep): ObservableStep {
  return policies.reduceRight<ObservableStep>((next, policy) => policy.wrapObservable(next), terminal);
}
