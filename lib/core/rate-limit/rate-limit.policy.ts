import type { Unsubscribable } from 'rxjs';
import { RateLimitExceededError } from '../errors/rate-limit-exceeded.error.js';
import type { Invocation } from '../pipeline/invocation.js';
import { observableStepOf, sinkStepOf, type Sink, type SinkStep } from '../pipeline/sink.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';
import type { RateLimitDecision } from './rate-limit-store.interface.js';
import type { RateLimitState } from './rate-limit.state.js';
import type { ResilienceEvents } from '../events/resilience-events.js';

/**
 * An outbound quota on a provider method: a call spends tokens before it runs. Without tokens it waits for them up
 * to `maxWait`, or fails with `RateLimitExceededError` carrying the time until they are there.
 */
export class RateLimitPolicy implements ResiliencePolicy {
  readonly name: string;

  constructor(
    private readonly limiter: RateLimitState,
    /** The bucket key of a call. */
    private readonly keyOf: (invocation: Invocation) => string,
    private readonly events?: ResilienceEvents,
  ) {
    this.name = limiter.name;
  }

  wrapPromise(next: PromiseStep): PromiseStep {
    const proceed = async (invocation: Invocation, decision: RateLimitDecision) => {
      if (!decision.allowed) throw this.refused(invocation, decision);
      if (decision.waitMs > 0) await invocation.wait(decision.waitMs);
      return next(invocation);
    };
    return (invocation) => {
      let key: string;
      try {
        key = this.keyOf(invocation);
      } catch (error) {
        // A throwing key function fails the call like any error, through the outer policies.
        return Promise.reject(error);
      }
      const decision = this.limiter.consume(key, this.limiter.options.maxWait);
      if (decision instanceof Promise) return decision.then((settled) => proceed(invocation, settled));
      // The common case, allowed at once by a synchronous store, stays a plain call.
      if (decision.allowed && decision.waitMs === 0) return next(invocation);
      return proceed(invocation, decision);
    };
  }

  /** The refusal of a call, reported (`rate-limit-rejected`) when someone listens. */
  private refused(invocation: Invocation, decision: RateLimitDecision): RateLimitExceededError {
    if (this.events?.observed) {
      this.events.emit({
        type: 'rate-limit-rejected',
        policy: this.name,
        target: invocation.target,
        key: this.keyOf(invocation),
        retryAfterMs: decision.retryAfterMs,
      });
    }
    return new RateLimitExceededError(this.name, decision.retryAfterMs);
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
    const { limiter, keyOf } = this;
    const maxWait = limiter.options.maxWait;
    const proceed = (decision: RateLimitDecision, invocation: Invocation, sink: Sink): Unsubscribable | undefined => {
      if (!decision.allowed) {
        sink.error(this.refused(invocation, decision));
        return undefined;
      }
      if (decision.waitMs === 0) return next(invocation, sink);
      return new Pending(next, invocation, sink).after(decision.waitMs);
    };
    return (invocation, sink) => {
      let decision: RateLimitDecision | Promise<RateLimitDecision>;
      try {
        decision = limiter.consume(keyOf(invocation), maxWait);
      } catch (error) {
        sink.error(error); // a throwing key function fails the call like any error
        return undefined;
      }
      if (!(decision instanceof Promise)) return proceed(decision, invocation, sink);
      const pending = new Pending(next, invocation, sink);
      decision.then(
        (settled) => {
          if (pending.given) return;
          if (settled.allowed && settled.waitMs > 0) pending.after(settled.waitMs);
          else pending.running = proceed(settled, invocation, sink);
        },
        (error: unknown) => {
          if (!pending.given) sink.error(error);
        },
      );
      return pending;
    };
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
