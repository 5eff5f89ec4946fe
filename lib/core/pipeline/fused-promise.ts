import { isOwnRejection } from '../circuit-breaker/circuit-breaker.policy.js';
import { ORDINARY_CALL } from '../circuit-breaker/circuit-breaker.state.js';
import type { DeadlineNode } from '../timeout/deadline-queue.js';
import { monotonicNow } from '../util/clock.js';
import { FusedPlan } from './fused-plan.js';
import type { Invocation } from './invocation.js';
import { pendingPromiseFor, type PromiseSettlers } from './pending-promise.js';
import type { PromiseStep, ResiliencePolicy } from './policy.interface.js';

/**
 * The fused Promise path: the common policy set, `Fallback( Retry( CircuitBreaker( RateLimit( Timeout( Bulkhead(
 * call ))))))` with any of them left out, as ONE object per call that admits the call through each policy, subscribes
 * one `then` to the method's Promise and, when it settles, reports to each policy in turn. Chained steps cost a
 * Promise, a `then` and a microtask per policy and call (five hops for the six policies); this costs one.
 *
 * Only the success path and the first attempt run here. Whatever is rarer goes to the policies' own steps, which
 * make the same decisions through the same methods: a failure to the retry loop (`RetryPolicy.retryAfter`, whose
 * later attempts run the inner policies as built by {@link composePromise}) and the fallback chain
 * (`FallbackPolicy.recover`); a rate limit that makes the call wait, or a store that answers asynchronously, to
 * `RateLimitPolicy.afterDecision`; a full bulkhead to its queue (`BulkheadPolicy`'s step); a half-open probe or a
 * timed breaker to `CircuitBreakerPolicy.admitted`.
 */

/**
 * One step running `fused` (a run {@link fusableTail} accepted, outermost first) around `terminal`. `compose` builds
 * the policies' own steps for what leaves the fused path.
 * @internal
 */
export function fusePromise(
  fused: readonly ResiliencePolicy[],
  terminal: PromiseStep,
  compose: (policies: readonly ResiliencePolicy[], terminal: PromiseStep) => PromiseStep,
): PromiseStep {
  const plan = FusedPlan.of(fused, terminal, compose, (bulkhead, inner) => bulkhead.wrapPromise(inner));
  return (invocation) => new FusedCall(plan, invocation).run();
}

/** No breaker permit held (no breaker, or it already heard how the call ended). */
const NO_PERMIT = -2;

/**
 * One call on the fused path; its own deadline node when there is a timeout. Settles at most once: the method's
 * answer, or the deadline, whichever comes first (the bulkhead slot is still held until the work really ends).
 */
class FusedCall implements DeadlineNode, PromiseSettlers {
  older?: DeadlineNode = undefined;
  newer?: DeadlineNode = undefined;
  at = 0;
  private permit = NO_PERMIT;
  private holdsSlot = false;
  private armed = false;
  private ended = false;
  resolve: ((value: unknown) => void) | undefined = undefined;
  reject: ((reason: unknown) => void) | undefined = undefined;

  constructor(
    private readonly plan: FusedPlan<PromiseStep>,
    private readonly invocation: Invocation,
  ) {}

  run(): Promise<unknown> {
    const { plan, invocation } = this;
    plan.retry?.budget?.recordCall();
    const { breaker } = plan;
    if (breaker !== undefined) {
      const permit = breaker.admit();
      // Open: the retry and the fallback hear the rejection, as from the breaker's own step.
      if (typeof permit !== 'number') return this.recover(permit);
      if (permit !== ORDINARY_CALL || breaker.tracksSlowCalls) {
        return this.outcomeOf(plan.breakerPolicy!.admitted(invocation, permit, plan.afterBreaker!));
      }
      this.permit = permit;
    }
    const { rateLimit, deadlines } = plan;
    // With both a rate limit and a timeout, one clock read for the two (see MemoryRateLimitStore.take).
    let now: number | undefined;
    if (rateLimit !== undefined) {
      if (deadlines !== undefined) now = monotonicNow();
      let decision;
      try {
        decision = rateLimit.decide(invocation, now);
      } catch (error) {
        // A throwing key function fails the call like any error, inside the breaker.
        return this.outcomeOf(Promise.reject(error));
      }
      if (decision instanceof Promise || !decision.allowed || decision.waitMs !== 0) {
        return this.outcomeOf(rateLimit.afterDecision(decision, invocation, plan.afterRateLimit!));
      }
    }
    if (deadlines !== undefined) {
      deadlines.schedule(this, now);
      this.armed = true;
    }
    const { compartment } = plan;
    let running: Promise<unknown>;
    if (compartment === undefined) running = this.call();
    else if (compartment.active < plan.maxConcurrent) {
      compartment.active++;
      this.holdsSlot = true;
      running = this.call();
    } else {
      running = plan.bulkheadStep!(invocation);
    }
    return this.outcomeOf(running);
  }

  private call(): Promise<unknown> {
    try {
      return this.plan.terminal(this.invocation);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The caller's Promise of `running`: one `then`, and with a timeout armed one Promise of our own, which the
   * deadline can reject before `running` settles.
   */
  private outcomeOf(running: Promise<unknown>): Promise<unknown> {
    if (!this.armed) {
      return running.then(
        (value) => this.answered(value),
        (error: unknown) => this.failed(error),
      );
    }
    const outcome = pendingPromiseFor(this);
    running.then(
      (value) => this.settle(true, value),
      (error: unknown) => this.settle(false, error),
    );
    return outcome;
  }

  /** Settles the caller's own Promise; what a report throws (a listener, a `recordIf`) rejects it, as on the steps. */
  private settle(succeeded: boolean, result: unknown): void {
    try {
      this.resolve!(succeeded ? this.answered(result) : this.failed(result));
    } catch (error) {
      this.reject!(error);
    }
  }

  /** Gives the bulkhead slot back (the work ended) and tells whether the call was still waiting for it. */
  private workEnded(): boolean {
    if (this.holdsSlot) {
      this.holdsSlot = false;
      this.plan.compartment!.release();
    }
    if (this.ended) return false;
    this.ended = true;
    if (this.armed) {
      this.armed = false;
      this.plan.deadlines!.clear(this);
    }
    return true;
  }

  private answered(value: unknown): unknown {
    // Timed out already: the caller has its error; the value is dropped, as the timeout's own step drops it.
    if (!this.workEnded()) return undefined;
    if (this.permit !== NO_PERMIT) this.plan.breaker!.onSuccess(this.permit, 0);
    this.plan.remember?.(this.invocation, value);
    return value;
  }

  private failed(error: unknown): unknown {
    if (!this.workEnded()) return undefined;
    return this.breakerHeard(error);
  }

  /** The deadline passed (the queue let go of this node): the call fails now, the work may go on (slot held). */
  expire(): void {
    this.armed = false;
    if (this.ended) return;
    this.ended = true;
    try {
      this.resolve!(this.breakerHeard(this.plan.timeout!.expire(this.invocation, this.plan.deadlines!.duration)));
    } catch (error) {
      this.reject!(error);
    }
  }

  /** Reports a failure inside the breaker to it, then recovers as the retry and the fallback would. */
  private breakerHeard(error: unknown): Promise<unknown> {
    const { permit, invocation } = this;
    if (permit !== NO_PERMIT) {
      this.permit = NO_PERMIT;
      const breaker = this.plan.breaker!;
      try {
        if (invocation.cancelled !== undefined || isOwnRejection(error)) breaker.onCancel(permit);
        else breaker.onFailure(permit, error, 0); // untimed: a timed breaker keeps its own step
      } catch (failure) {
        error = failure; // a throwing recordIf or ignoreIf fails the call with its error, as on the steps
      }
    }
    return this.recover(error);
  }

  /** What the retry loop, then the fallback chain, make of a failed first attempt. */
  private recover(error: unknown): Promise<unknown> {
    const { retry, fallback, afterRetry } = this.plan;
    const { invocation } = this;
    if (retry === undefined) {
      if (fallback === undefined) return Promise.reject(error);
      try {
        return fallback.recover(error, invocation);
      } catch (failure) {
        return Promise.reject(failure);
      }
    }
    const retried = retry.retryAfter(error, invocation, afterRetry!);
    if (fallback === undefined) return retried;
    const { remember } = fallback.hooks;
    return retried.then(
      remember === undefined
        ? undefined
        : (value) => {
            remember(invocation, value);
            return value;
          },
      (failure: unknown) => fallback.recover(failure, invocation),
    );
  }
}
