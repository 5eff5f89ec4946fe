import type { Unsubscribable } from 'rxjs';
import { RateLimitExceededError } from '../errors/rate-limit-exceeded.error.js';
import type { Invocation } from '../pipeline/invocation.js';
import { observableStepOf, sinkStepOf, type Sink, type SinkStep } from '../pipeline/sink.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';
import type { RateLimitDecision } from './rate-limit-store.interface.js';
import { RateLimitState } from './rate-limit.state.js';
import type { ResilienceEvents } from '../events/resilience-events.js';

/** A decision for one call; for several limits, the one that refused it. */
interface LimitDecision extends RateLimitDecision {
  readonly refusedBy?: RateLimitState;
  /** The bucket key the refusing limit was asked for (several limits only: a single limit's is the call's key). */
  readonly refusedKey?: string;
}

/** One decision for a call under several limits: allowed when all allow, after the longest wait; else the refusal. */
function combine(
  limiters: readonly RateLimitState[],
  keys: readonly string[],
  decisions: readonly RateLimitDecision[],
): LimitDecision {
  let refused = -1;
  let waitMs = 0;
  decisions.forEach((decision, index) => {
    if (!decision.allowed && (refused < 0 || decision.retryAfterMs > decisions[refused].retryAfterMs)) refused = index;
    waitMs = Math.max(waitMs, decision.waitMs);
  });
  if (refused >= 0) return { ...decisions[refused], refusedBy: limiters[refused], refusedKey: keys[refused] };
  return { ...decisions[0], waitMs };
}

/**
 * An outbound quota on a provider method: a call spends tokens before it runs. Without tokens it waits for them up
 * to `maxWait`, or fails with `RateLimitExceededError` carrying the time until they are there.
 */
export class RateLimitPolicy implements ResiliencePolicy {
  readonly name: string;
  /** Spends the call's tokens: of one limit, or of several only when all admit. */
  private readonly spend: (invocation: Invocation, monotonic?: number) => LimitDecision | Promise<LimitDecision>;

  constructor(
    limiter: RateLimitState,
    /** The bucket key of a call. */
    keyOf: (invocation: Invocation) => string,
    /** More limits on the same method: a call spends from each only when every one admits it. */
    more: readonly { limiter: RateLimitState; keyOf: (invocation: Invocation) => string }[] = [],
    /** Where refusals are reported (`rate-limit-rejected`), while someone listens. */
    private readonly events?: ResilienceEvents,
  ) {
    this.name = limiter.name;
    if (more.length === 0) {
      const { maxWait } = limiter.options;
      // A provider method's call sends no headers: the memory store admits it without a decision object.
      this.spend = (invocation, monotonic) => limiter.spend(keyOf(invocation), maxWait, monotonic);
      this.refusal = (decision, invocation) => {
        // The key is computed again, on a refusal someone listens for only: the admitted path keeps no copy of it.
        if (this.events?.observed) this.report(limiter, keyOf(invocation), decision, invocation);
        return new RateLimitExceededError(
          limiter.name,
          decision.retryAfterMs,
          limiter.options.message as string | undefined,
        );
      };
      return;
    }
    const limiters = [limiter, ...more.map((each) => each.limiter)];
    const keyOfs = [keyOf, ...more.map((each) => each.keyOf)];
    this.spend = (invocation) => {
      const keys = keyOfs.map((each) => each(invocation));
      const decisions = RateLimitState.consumeAll(
        limiters,
        keys,
        limiters.map((each) => each.rule),
        limiters.map((each) => each.options.maxWait),
      );
      return decisions instanceof Promise
        ? decisions.then((settled) => combine(limiters, keys, settled))
        : combine(limiters, keys, decisions);
    };
    this.refusal = (decision, invocation) => {
      const by = decision.refusedBy ?? limiter;
      if (this.events?.observed) this.report(by, decision.refusedKey ?? keyOf(invocation), decision, invocation);
      return new RateLimitExceededError(by.name, decision.retryAfterMs, by.options.message as string | undefined);
    };
  }

  /** The error of a refused call, naming the limit that refused; reports the refusal when someone listens. */
  private readonly refusal: (decision: LimitDecision, invocation: Invocation) => RateLimitExceededError;

  private report(by: RateLimitState, key: string, decision: RateLimitDecision, invocation: Invocation): void {
    this.events!.emit({
      type: 'rate-limit-rejected',
      policy: by.name,
      target: invocation.target,
      key,
      retryAfterMs: decision.retryAfterMs,
    });
  }

  wrapPromise(next: PromiseStep): PromiseStep {
    return (invocation) => {
      let decision: LimitDecision | Promise<LimitDecision>;
      try {
        decision = this.spend(invocation);
      } catch (error) {
        // A throwing key function fails the call like any error, through the outer policies.
        return Promise.reject(error);
      }
      // The common case, allowed at once by a synchronous store, stays a plain call.
      if (!(decision instanceof Promise) && decision.allowed && decision.waitMs === 0) return next(invocation);
      return this.afterDecision(decision, invocation, next);
    };
  }

  /**
   * @internal Spends the call's tokens (throws what a key function throws): the fused Promise path
   * (`fused-promise.ts`) asks here, as the steps of both paths do. `monotonic`: a `monotonicNow()` reading of the
   * caller's, which the memory store may use instead of reading its clock (see `MemoryRateLimitStore.take`).
   */
  decide(invocation: Invocation, monotonic?: number): LimitDecision | Promise<LimitDecision> {
    return this.spend(invocation, monotonic);
  }

  /**
   * @internal The rest of a call whose decision is not "allowed at once": the store's answer awaited, then the
   * refusal, or the wait for reserved tokens, then `next`.
   */
  afterDecision(
    decision: LimitDecision | Promise<LimitDecision>,
    invocation: Invocation,
    next: PromiseStep,
  ): Promise<unknown> {
    if (decision instanceof Promise) return decision.then((settled) => this.proceed(settled, invocation, next));
    return this.proceed(decision, invocation, next);
  }

  private async proceed(decision: RateLimitDecision, invocation: Invocation, next: PromiseStep): Promise<unknown> {
    if (!decision.allowed) throw this.refusal(decision, invocation);
    if (decision.waitMs > 0) await invocation.wait(decision.waitMs);
    return next(invocation);
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    return observableStepOf(this.wrapSink(sinkStepOf(next)));
  }

  /**
   * Hand-written rather than `defer` + `switchMap` + `timer`: a call allowed at once goes straight on to the rest
   * of the pipeline, with nothing of its own in between.
   * @internal
   */
  wrapSink(next: SinkStep): SinkStep {
    const { spend } = this;
    return (invocation, sink) => {
      let decision: LimitDecision | Promise<LimitDecision>;
      try {
        decision = spend(invocation);
      } catch (error) {
        sink.error(error); // a throwing key function fails the call like any error
        return undefined;
      }
      return this.afterDecisionSink(decision, invocation, next, sink);
    };
  }

  /**
   * @internal The rest of an Observable call once `decision` is known or asked for: the store's answer awaited, then
   * the refusal, or the wait for reserved tokens, or `next` at once. The fused Observable path's way too.
   */
  afterDecisionSink(
    decision: LimitDecision | Promise<LimitDecision>,
    invocation: Invocation,
    next: SinkStep,
    sink: Sink,
  ): Unsubscribable | undefined {
    if (!(decision instanceof Promise)) return this.proceedSink(decision, invocation, next, sink);
    const pending = new Pending(next, invocation, sink);
    decision.then(
      (settled) => {
        if (pending.given) return;
        if (settled.allowed && settled.waitMs > 0) pending.after(settled.waitMs);
        else pending.running = this.proceedSink(settled, invocation, next, sink);
      },
      (error: unknown) => {
        if (!pending.given) sink.error(error);
      },
    );
    return pending;
  }

  private proceedSink(
    decision: LimitDecision,
    invocation: Invocation,
    next: SinkStep,
    sink: Sink,
  ): Unsubscribable | undefined {
    if (!decision.allowed) {
      sink.error(this.refusal(decision, invocation));
      return undefined;
    }
    if (decision.waitMs === 0) return next(invocation, sink);
    return new Pending(next, invocation, sink).after(decision.waitMs);
  }
}

/** A call waiting for its tokens (or for the store's answer); unsubscribing clears the wait. */
class Pending implements Unsubscribable {
  given = false;
  running: Unsubscribable | undefined = undefined;
  private timer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(
    private readonly next: SinkStep,
    private readonly invocation: Invocation,
    private readonly sink: Sink,
  ) {}

  after(waitMs: number): this {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.next(this.invocation, this.sink);
    }, waitMs);
    return this;
  }

  unsubscribe(): void {
    this.given = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const { running } = this;
    this.running = undefined;
    running?.unsubscribe();
  }
}
