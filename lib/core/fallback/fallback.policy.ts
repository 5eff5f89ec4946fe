import type { Observable, Unsubscribable } from 'rxjs';
import type { ResilienceEvents } from '../events/resilience-events.js';
import type { Invocation } from '../pipeline/invocation.js';
import { observableStepOf, sinkStepOf, subscriberOf, type Sink, type SinkStep } from '../pipeline/sink.js';
import { liftToObservable, liftToPromise } from '../pipeline/lift.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';

/** Produces the replacement result for a failed invocation (value, Promise or Observable). */
export type FallbackHandler = (error: unknown, invocation: Invocation) => unknown;

/**
 * Replaces a failure with another result. Errors that `when` rejects propagate unchanged; an error thrown by the
 * fallback itself propagates too (it is never swallowed).
 */
export class FallbackPolicy implements ResiliencePolicy {
  constructor(
    readonly name: string,
    private readonly handler: FallbackHandler,
    private readonly when: ((error: unknown) => boolean) | undefined,
    private readonly events: ResilienceEvents,
  ) {}

  wrapPromise(next: PromiseStep): PromiseStep {
    // A rejection handler only (no async function): the success path costs one `then`.
    return (invocation) => next(invocation).then(undefined, (error: unknown) => this.recover(error, invocation));
  }

  private recover(error: unknown, invocation: Invocation): Promise<unknown> {
    if (!this.handles(error, invocation)) throw error;
    return liftToPromise(this.handler(error, invocation));
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    return observableStepOf(this.wrapSink(sinkStepOf(next)));
  }

  /**
   * Hand-written rather than RxJS's `catchError`: the same switch to the fallback, with one object per call.
   * @internal
   */
  wrapSink(next: SinkStep): SinkStep {
    return (invocation, sink) => new FallbackCall(this, invocation, sink).start(next);
  }

  /**
   * The replacement for `error`, or undefined when the fallback does not apply to it.
   * @internal
   */
  replacementFor(error: unknown, invocation: Invocation): Observable<unknown> | undefined {
    return this.handles(error, invocation) ? liftToObservable(this.handler(error, invocation)) : undefined;
  }

  /** True when the fallback applies to `error`; reports the fallback when it does. */
  private handles(error: unknown, invocation: Invocation): boolean {
    if (this.when !== undefined && !this.when(error)) return false;
    invocation.answeredByFallback = true;
    if (this.events.observed) {
      this.events.emit({ type: 'fallback', policy: this.name, target: invocation.target, error });
    }
    return true;
  }
}

/** An Observable call with a fallback: passes its values on; on an error the fallback applies to, switches over. */
class FallbackCall implements Sink, Unsubscribable {
  private ended = false;
  private inner: Unsubscribable | undefined = undefined;
  private replacement: Unsubscribable | undefined = undefined;

  constructor(
    private readonly policy: FallbackPolicy,
    private readonly invocation: Invocation,
    private readonly downstream: Sink,
  ) {}

  start(next: SinkStep): Unsubscribable {
    const inner = next(this.invocation, this);
    if (this.ended) inner?.unsubscribe();
    else this.inner = inner;
    return this;
  }

  next(value: unknown): void {
    this.downstream.next(value);
  }

  error(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.inner = undefined;
    let replacement: Observable<unknown> | undefined;
    try {
      replacement = this.policy.replacementFor(error, this.invocation);
    } catch (failure) {
      this.downstream.error(failure); // the fallback's own failure is the caller's error
      return;
    }
    if (replacement === undefined) this.downstream.error(error);
    else this.replacement = replacement.subscribe(subscriberOf(this.downstream));
  }

  complete(): void {
    if (this.ended) return;
    this.ended = true;
    this.inner = undefined;
    this.downstream.complete();
  }

  unsubscribe(): void {
    const { inner, replacement } = this;
    this.ended = true;
    this.inner = this.replacement = undefined;
    inner?.unsubscribe();
    replacement?.unsubscribe();
  }
}
