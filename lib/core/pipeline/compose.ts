import type { ObservableStep, PromiseStep, ResiliencePolicy } from './policy.interface.js';
import { composeObservableSteps } from './sink.js';

/**
 * Chains `policies` (outermost first) around `terminal` into one Promise step. Runs once per method at bootstrap,
 * so the per-call path is a fixed chain of steps with no lookups.
 */
export function composePromise(policies: readonly ResiliencePolicy[], terminal: PromiseStep): PromiseStep {
  return policies.reduceRight<PromiseStep>((next, policy) => policy.wrapPromise(next), terminal);
}

/**
 * Chains `policies` (outermost first) around `terminal` into one Observable step. The library's own policies run
 * fused inside it (one object per policy and call, see `SinkPolicy`); any other policy gets `wrapObservable`.
 */
export function composeObservable(policies: readonly ResiliencePolicy[], terminal: ObservableStep): ObservableStep {
  return composeObservableSteps(policies, terminal);
}
