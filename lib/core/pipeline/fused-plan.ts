import { BulkheadPolicy } from '../bulkhead/bulkhead.policy.js';
import type { Compartment } from '../bulkhead/compartment.js';
import { CircuitBreakerPolicy } from '../circuit-breaker/circuit-breaker.policy.js';
import type { CircuitBreakerState } from '../circuit-breaker/circuit-breaker.state.js';
import { FallbackPolicy } from '../fallback/fallback.policy.js';
import { RateLimitPolicy } from '../rate-limit/rate-limit.policy.js';
import { RetryPolicy } from '../retry/retry.policy.js';
import type { DeadlineQueue } from '../timeout/deadline-queue.js';
import { TimeoutPolicy } from '../timeout/timeout.policy.js';
import type { Invocation } from './invocation.js';
import type { ResiliencePolicy } from './policy.interface.js';

/**
 * Which policies fuse, and what a fused call needs of them: shared by the fused Promise path (`fused-promise.ts`)
 * and the fused Observable path (`fused-observable.ts`), which differ only in their kind of step (`Step`).
 */

/**
 * What a fused call needs of its policies, found once at bootstrap. The `after*` steps are the policies' own, for
 * what leaves the fused path.
 * @internal
 */
export class FusedPlan<Step> {
  fallback: FallbackPolicy | undefined = undefined;
  /** The fallback's `remember` hook (a last-known-good step), if any. */
  remember: ((invocation: Invocation, value: unknown) => void) | undefined = undefined;
  retry: RetryPolicy | undefined = undefined;
  breakerPolicy: CircuitBreakerPolicy | undefined = undefined;
  breaker: CircuitBreakerState | undefined = undefined;
  rateLimit: RateLimitPolicy | undefined = undefined;
  timeout: TimeoutPolicy | undefined = undefined;
  deadlines: DeadlineQueue | undefined = undefined;
  compartment: Compartment | undefined = undefined;
  maxConcurrent = 0;
  /** The later attempts of a retry: the policies inside it. */
  afterRetry: Step | undefined = undefined;
  /** The rest once the breaker admitted the call: what a probe or a timed call runs. */
  afterBreaker: Step | undefined = undefined;
  /** The rest once the rate limit decided: the timeout and the bulkhead (a call that had to wait, or ask a store). */
  afterRateLimit: Step | undefined = undefined;
  /** The bulkhead's own step, for a call that finds no free slot (it queues, or is rejected). */
  bulkheadStep: Step | undefined = undefined;

  private constructor(readonly terminal: Step) {}

  /**
   * The plan of `fused` (a run {@link fusableTail} accepted, outermost first) around `terminal`: `compose` builds
   * the rest inside a policy as the path composes it, `ownBulkheadStep` the bulkhead's own step.
   */
  static of<Step>(
    fused: readonly ResiliencePolicy[],
    terminal: Step,
    compose: (policies: readonly ResiliencePolicy[], terminal: Step) => Step,
    ownBulkheadStep: (bulkhead: BulkheadPolicy, terminal: Step) => Step,
  ): FusedPlan<Step> {
    const plan = new FusedPlan(terminal);
    fused.forEach((policy, index) => {
      const inner = fused.slice(index + 1);
      if (policy instanceof FallbackPolicy) {
        plan.fallback = policy;
        plan.remember = policy.hooks.remember;
      } else if (policy instanceof RetryPolicy) {
        plan.retry = policy;
        plan.afterRetry = compose(inner, terminal);
      } else if (policy instanceof CircuitBreakerPolicy) {
        plan.breakerPolicy = policy;
        plan.breaker = policy.state;
        plan.afterBreaker = compose(inner, terminal);
      } else if (policy instanceof RateLimitPolicy) {
        plan.rateLimit = policy;
        plan.afterRateLimit = compose(inner, terminal);
      } else if (policy instanceof TimeoutPolicy) {
        plan.timeout = policy;
        plan.deadlines = policy.deadlines;
      } else if (policy instanceof BulkheadPolicy) {
        plan.compartment = policy.bulkhead.singleCompartment();
        plan.maxConcurrent = policy.bulkhead.options.maxConcurrent;
        plan.bulkheadStep = ownBulkheadStep(policy, terminal);
      }
    });
    return plan;
  }
}

/** The rank of a timeout in the fused set. */
const TIMEOUT_RANK = 4;

/** Where each kind stands in the fused set, outermost first: a fused run keeps this order strictly. */
function rankOf(policy: ResiliencePolicy): number {
  // The exact classes: a subclass (or a wrapper, as the testing kit's switches) may change what its steps do.
  switch (policy.constructor) {
    case FallbackPolicy:
      return 0;
    case RetryPolicy:
      return (policy as RetryPolicy).retryOnResult === undefined ? 1 : -1;
    case CircuitBreakerPolicy:
      return 2;
    case RateLimitPolicy:
      return 3;
    case TimeoutPolicy: {
      // A per-attempt timeout of a fixed duration; a total or adaptive one keeps its own step.
      const timeout = policy as TimeoutPolicy;
      return timeout.scope === 'attempt' && timeout.adaptive === undefined ? TIMEOUT_RANK : -1;
    }
    case BulkheadPolicy:
      // One compartment (no key function): its slots are taken and given back here.
      return (policy as BulkheadPolicy).bulkhead.singleCompartment() === undefined ? -1 : 5;
    default:
      return -1;
  }
}

/**
 * How many of the innermost `policies` fuse into one step: the longest run of them, ending with the innermost, in
 * the fused set's order. One policy alone gains nothing over its own step, except a timeout: its own step makes a
 * Promise with an executor closure, a deadline and three closures per call; the fused call is its own deadline node.
 * @internal
 */
export function fusableTail(policies: readonly ResiliencePolicy[]): number {
  let count = 0;
  let outerThan = Infinity;
  for (let i = policies.length - 1; i >= 0; i--) {
    const rank = rankOf(policies[i]);
    if (rank < 0 || rank >= outerThan) break;
    outerThan = rank;
    count++;
  }
  return count >= 2 || (count === 1 && outerThan === TIMEOUT_RANK) ? count : 0;
}
