import type { Unsubscribable } from 'rxjs';
import { isOwnRejection } from '../circuit-breaker/circuit-breaker.policy.js';
import { ORDINARY_CALL } from '../circuit-breaker/circuit-breaker.state.js';
import type { DeadlineNode } from '../timeout/deadline-queue.js';
import { FusedPlan, fusableTail } from './fused-plan.js';
import type { Invocation } from './invocation.js';
import type { ObservableStep, ResiliencePolicy } from './policy.interface.js';
import { composeObservable, composeSinks, observableStepOf, sinkStepOf, type Sink, type SinkStep } from './sink.js';

/**
 * The fused Observable path: the set the fused Promise path fuses (`fused-promise.ts`, whose `fusableTail` picks the
 * run), `Fallback( Retry( CircuitBreaker( RateLimit( Timeout( Bulkhead( call ))))))` with any of them left out, as ONE
 * object per call: the sink of the method's Observable, the caller's teardown and its own deadline node. The
 * policies' own sinks cost one object each per call (five for the six policies).
 *
 * It plays each policy's part in the first attempt exactly as its sink would, in the same order: the timeout's
 * deadline is for the first value (a stream that started answering keeps flowing), the breaker hears of the first
 * value, an error or a caller that left, the bulkhead slot is held until the method's Observable is torn down, and
 * the fallback remembers the last value of a completed stream. Whatever is rarer goes to the policies' own steps,
 * which make the same decisions through the same methods: a failed first attempt to the retry loop
 * (`RetryPolicy.retrySinkAfter`, whose later attempts run the inner policies as {@link composeFusedSinks} builds
 * them), then the fallback chain (`FallbackPolicy.recoverSink`); a rate limit that makes the call wait, or a store
 * that answers asynchronously, to `RateLimitPolicy.afterDecisionSink`; a full bulkhead to its own step (queue or
 * rejection); a half-open probe or a timed breaker to `CircuitBreakerPolicy.admittedSink`.
 */

/**
 * Chains `policies` (outermost first) around `terminal` as one {@link SinkStep}, the innermost run of the common set
 * fused into one object per call (see above), the others as their own steps.
 * @internal
 */
export function composeFusedSinks(policies: readonly ResiliencePolicy[], terminal: SinkStep): SinkStep {
  const fused = fusedCount(policies);
  if (fused === 0) return composeSinks(policies, terminal);
  const inner = fuseSinks(policies.slice(-fused), terminal);
  return composeSinks(policies.slice(0, policies.length - fused), inner);
}

/**
 * {@link composeFusedSinks} for an Observable pipeline (a handler's), whose outermost policies may want Observables.
 * @internal
 */
export function composeFusedObservable(
  policies: readonly ResiliencePolicy[],
  terminal: ObservableStep,
): ObservableStep {
  if (fusedCount(policies) === 0) return composeObservable(policies, terminal);
  return observableStepOf(composeFusedSinks(policies, sinkStepOf(terminal)));
}

/**
 * How many of the innermost `policies` fuse: the Promise path's run, but never a timeout alone, whose own sink is
 * already one object per call (and a smaller one).
 */
function fusedCount(policies: readonly ResiliencePolicy[]): number {
  const fused = fusableTail(policies);
  return fused === 1 ? 0 : fused;
}

/** One step running `fused` (a run `fusableTail` accepted, outermost first) around `terminal`. */
function fuseSinks(fused: readonly ResiliencePolicy[], terminal: SinkStep): SinkStep {
  const plan = FusedPlan.of(fused, terminal, composeFusedSinks, (bulkhead, inner) => bulkhead.wrapSink(inner));
  return (invocation, sink) => new FusedSinkCall(plan, invocation, sink).run();
}

/** No value passed on yet. */
const NO_VALUE: unique symbol = Symbol('no value');

/** No breaker permit held (no breaker, it already heard how the call went, or its own step reports). */
const NO_PERMIT = -2;

/**
 * One Observable call on the fused path. Until its first attempt ends it is the sink of that attempt (the method's
 * Observable, or the policy step it handed over to); after a failed first attempt it is the sink of the retry loop,
 * passing values on as the fallback's sink would, and handing a final failure to the fallback chain.
 */
class FusedSinkCall implements Sink, Unsubscribable, DeadlineNode {
  older?: DeadlineNode = undefined;
  newer?: DeadlineNode = undefined;
  at = 0;
  private permit = NO_PERMIT;
  private holdsSlot = false;
  private armed = false;
  /** The first attempt ended (answered in full, failed, timed out, or its caller left). */
  private attemptEnded = false;
  /** The retry loop runs the later attempts: what reaches this sink now comes from it. */
  private looping = false;
  /** Nothing more reaches the caller from here: it completed, failed for good, or left. */
  private stopped = false;
  /** What runs the first attempt: the method's subscription, or the policy step it was handed over to. */
  private running: Unsubscribable | undefined = undefined;
  /** The retry loop, then (when it gives up) the fallback chain, once the first attempt failed. */
  private rest: Unsubscribable | undefined = undefined;
  /** The last value, for the fallback's `remember`. */
  private last: unknown = NO_VALUE;

  constructor(
    private readonly plan: FusedPlan<SinkStep>,
    private readonly invocation: Invocation,
    private readonly downstream: Sink,
  ) {}

  run(): Unsubscribable | undefined {
    const { plan, invocation } = this;
    plan.retry?.budget?.recordCall();
    const { breaker } = plan;
    if (breaker !== undefined) {
      const permit = breaker.admit();
      if (typeof permit !== 'number') {
        // Open: the retry and the fallback hear the rejection, as from the breaker's own step.
        this.attemptEnded = true;
        this.recover(permit);
        return this.teardown();
      }
      if (permit !== ORDINARY_CALL || breaker.tracksSlowCalls) {
        return this.handOver(plan.breakerPolicy!.admittedSink(invocation, permit, plan.afterBreaker!, this));
      }
      this.permit = permit;
    }
    const { rateLimit } = plan;
    if (rateLimit !== undefined) {
      let decision;
      try {
        decision = rateLimit.decide(invocation);
      } catch (error) {
        // A throwing key function fails the call like any error, inside the breaker.
        this.error(error);
        return this.teardown();
      }
      if (decision instanceof Promise || !decision.allowed || decision.waitMs !== 0) {
        return this.handOver(rateLimit.afterDecisionSink(decision, invocation, plan.afterRateLimit!, this));
      }
    }
    if (plan.deadlines !== undefined) {
      plan.deadlines.schedule(this);
      this.armed = true;
    }
    const { compartment } = plan;
    if (compartment !== undefined) {
      if (compartment.active >= plan.maxConcurrent) return this.handOver(plan.bulkheadStep!(invocation, this));
      compartment.active++;
      this.holdsSlot = true;
    }
    let running: Unsubscribable | undefined;
    try {
      running = plan.terminal(invocation, this);
    } catch (error) {
      // A step that throws instead of erroring must not leave its deadline or its slot behind.
      if (!this.attemptEnded) this.error(error);
      return this.teardown();
    }
    return this.handOver(running);
  }

  /** Keeps what runs the first attempt, or ends it at once when the attempt ended while it was starting. */
  private handOver(running: Unsubscribable | undefined): Unsubscribable | undefined {
    if (this.attemptEnded) running?.unsubscribe();
    else this.running = running;
    return this.teardown();
  }

  /** What the caller unsubscribes: nothing once the call is over (a call answered at once, the common case). */
  private teardown(): Unsubscribable | undefined {
    return this.stopped ? undefined : this;
  }

  next(value: unknown): void {
    if (!this.looping) {
      if (this.attemptEnded) return;
      // The first value answers the timeout and the breaker; a long-lived stream is not held to either.
      if (this.armed) this.disarm();
      this.breakerSucceeded();
    }
    if (this.plan.remember !== undefined) this.last = value;
    this.downstream.next(value);
  }

  error(error: unknown): void {
    if (this.looping) {
      // The retry loop gave up: the fallback chain, if any.
      this.rest = undefined;
      this.fallBack(error);
      return;
    }
    if (this.attemptEnded) return;
    this.attemptEnded = true;
    this.endAttempt();
    this.recover(this.breakerHeard(error));
  }

  complete(): void {
    if (!this.looping) {
      if (this.attemptEnded) return;
      this.attemptEnded = true;
      this.endAttempt();
      this.breakerSucceeded();
    }
    this.rest = undefined;
    this.stopped = true;
    const { last } = this;
    this.last = NO_VALUE;
    if (last !== NO_VALUE) this.plan.remember!(this.invocation, last);
    this.downstream.complete();
  }

  /** The deadline passed (the queue already let go of this node): the attempt is given up and fails with it. */
  expire(): void {
    this.armed = false;
    if (this.attemptEnded) return;
    this.attemptEnded = true;
    // The attempt is aborted before it is unsubscribed, as the timeout's own sink does.
    const error = this.plan.timeout!.expire(this.invocation, this.plan.deadlines!.duration);
    this.endAttempt();
    this.recover(this.breakerHeard(error));
  }

  /** The caller left: the first attempt (the breaker told), or the retry loop and the fallback, are ended. */
  unsubscribe(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (!this.attemptEnded) {
      this.attemptEnded = true;
      if (this.permit !== NO_PERMIT) {
        const permit = this.permit;
        this.permit = NO_PERMIT;
        this.plan.breaker!.onCancel(permit);
      }
      this.endAttempt();
    }
    const { rest } = this;
    this.rest = undefined;
    rest?.unsubscribe();
  }

  private disarm(): void {
    this.armed = false;
    this.plan.deadlines!.clear(this);
  }

  /** The first attempt is over: no deadline; what runs it torn down, then its bulkhead slot handed on. */
  private endAttempt(): void {
    if (this.armed) this.disarm();
    const { running } = this;
    this.running = undefined;
    running?.unsubscribe();
    if (this.holdsSlot) {
      this.holdsSlot = false;
      this.plan.compartment!.release();
    }
  }

  /** Tells the breaker the first attempt answered (its first value, or a completion without one), once. */
  private breakerSucceeded(): void {
    const { permit } = this;
    if (permit === NO_PERMIT) return;
    this.permit = NO_PERMIT;
    this.plan.breaker!.onSuccess(permit, 0);
  }

  /** Reports a failure of the first attempt to the breaker; what a throwing `recordIf` or `ignoreIf` throws wins. */
  private breakerHeard(error: unknown): unknown {
    const { permit } = this;
    if (permit === NO_PERMIT) return error;
    this.permit = NO_PERMIT;
    const breaker = this.plan.breaker!;
    try {
      if (isOwnRejection(error)) breaker.onCancel(permit);
      else breaker.onFailure(permit, error, 0); // untimed: a timed breaker keeps its own step
    } catch (failure) {
      return failure;
    }
    return error;
  }

  /** After a failed first attempt: the retry loop, whose final failure goes to the fallback chain. */
  private recover(error: unknown): void {
    const { retry, afterRetry } = this.plan;
    if (retry === undefined) {
      this.fallBack(error);
      return;
    }
    this.looping = true;
    const loop = retry.retrySinkAfter(error, this.invocation, afterRetry!, this);
    // The loop may have given up at once (no retry for this error): the fallback chain took its place, or it ended.
    if (this.rest === undefined && !this.stopped) this.rest = loop;
  }

  private fallBack(error: unknown): void {
    const { fallback } = this.plan;
    if (fallback === undefined) {
      this.stopped = true;
      this.downstream.error(error);
      return;
    }
    const recovery = fallback.recoverSink(error, this.invocation, this.downstream);
    if (!this.stopped) this.rest = recovery;
  }
}
