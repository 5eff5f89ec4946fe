import { isObservable, type Unsubscribable } from 'rxjs';
import type { ResilienceEvents } from '../events/resilience-events.js';
import type { Invocation } from '../pipeline/invocation.js';
import { observableStepOf, sinkStepOf, subscriberOf, type Sink, type SinkStep } from '../pipeline/sink.js';
import { isPromiseLike, liftToObservable, liftToPromise } from '../pipeline/lift.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';
import { NO_ANSWER, StaleAnswer } from './fallback-answer.js';

/**
 * Produces the replacement result for a failed invocation (value, Promise or Observable). A step of a chain may
 * also answer `NO_ANSWER` (the next step is tried) or a `StaleAnswer` (a remembered result).
 */
export type FallbackHandler = (error: unknown, invocation: Invocation) => unknown;

/** One step of a fallback chain: the errors it applies to (all when `when` is undefined) and what it answers. */
export interface FallbackStepHandler {
  readonly when: ((error: unknown) => boolean) | undefined;
  readonly run: FallbackHandler;
}

/** What a chain with a last-known-good step needs around the call. */
export interface FallbackHooks {
  /** Called with every successful result (the last value of an Observable), to remember it. */
  readonly remember?: (invocation: Invocation, value: unknown) => void;
  /** Called when a remembered answer replaces a failure, to tell the transport (an HTTP header). */
  readonly onStale?: (invocation: Invocation, ageMs: number) => void;
}

/**
 * Replaces a failure with another result: the first step of the chain that applies to the error and answers.
 * A step that fails, or has nothing to answer (`NO_ANSWER`), hands over to the next. Errors that the policy's
 * `when` rejects, or that no step applies to, propagate unchanged; when every step that applied failed, the last
 * step's error propagates, with the original error as its `cause` (set when it has none).
 */
export class FallbackPolicy implements ResiliencePolicy {
  /** @internal The chain, first step first. */
  readonly steps: readonly FallbackStepHandler[];

  constructor(
    readonly name: string,
    handler: FallbackHandler | readonly FallbackStepHandler[],
    private readonly when: ((error: unknown) => boolean) | undefined,
    private readonly events: ResilienceEvents,
    /** @internal */
    readonly hooks: FallbackHooks = {},
  ) {
    this.steps = typeof handler === 'function' ? [{ when: undefined, run: handler }] : handler;
  }

  wrapPromise(next: PromiseStep): PromiseStep {
    const { remember } = this.hooks;
    // A rejection handler only (no async function): the success path costs one `then`.
    if (remember === undefined) {
      return (invocation) => next(invocation).then(undefined, (error: unknown) => this.recover(error, invocation));
    }
    return (invocation) =>
      next(invocation).then(
        (value) => {
          remember(invocation, value);
          return value;
        },
        (error: unknown) => this.recover(error, invocation),
      );
  }

  /** @internal The chain's answer to `error` (throws it when the chain does not apply): the fused path's too. */
  recover(error: unknown, invocation: Invocation): Promise<unknown> {
    if (!this.appliesTo(error)) throw error;
    return this.fromStep(0, error, invocation, undefined);
  }

  /** The Promise path of the chain from step `index` on; `failure` is the last step error so far. */
  private fromStep(
    index: number,
    error: unknown,
    invocation: Invocation,
    failure: { error: unknown } | undefined,
  ): Promise<unknown> {
    for (let i = index; i < this.steps.length; i++) {
      const step = this.steps[i];
      let result: unknown;
      try {
        // A throwing `when` counts as the step failing, as on the Observable path.
        if (step.when !== undefined && !step.when(error)) continue;
        result = step.run(error, invocation);
      } catch (stepError) {
        failure = { error: stepError };
        continue;
      }
      if (result === NO_ANSWER) continue;
      if (!isObservable(result) && !isPromiseLike(result)) {
        return Promise.resolve(this.answered(i, error, invocation, result));
      }
      return liftToPromise(result).then(
        (value) =>
          value === NO_ANSWER
            ? this.fromStep(i + 1, error, invocation, failure)
            : this.answered(i, error, invocation, value),
        (stepError: unknown) => this.fromStep(i + 1, error, invocation, { error: stepError }),
      );
    }
    return Promise.reject(this.exhausted(error, failure));
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
   * The chain's answer to `error` as an Observable call into `sink`: the fused Observable path's way on after a
   * failure (`fused-observable.ts`), as its own step goes on.
   * @internal
   */
  recoverSink(error: unknown, invocation: Invocation, sink: Sink): Unsubscribable {
    const call = new FallbackCall(this, invocation, sink);
    call.error(error);
    return call;
  }

  /** @internal True when the chain applies to `error` at all (the policy-wide `when`). */
  appliesTo(error: unknown): boolean {
    return this.when === undefined || this.when(error);
  }

  /**
   * @internal Step `index` answered `value`: reports it (stale or not) and returns the value to pass on.
   */
  answered(index: number, error: unknown, invocation: Invocation, value: unknown): unknown {
    const stale = value instanceof StaleAnswer ? value : undefined;
    // The call metrics' outcome: answered by a fallback step, not by the method.
    invocation.answeredByFallback = true;
    if (stale !== undefined) this.hooks.onStale?.(invocation, stale.ageMs);
    if (this.events.observed) {
      this.events.emit({
        type: 'fallback',
        policy: this.name,
        target: invocation.target,
        error,
        step: index,
        ...(stale === undefined ? {} : { stale: true, ageMs: stale.ageMs }),
      });
    }
    return stale === undefined ? value : stale.value;
  }

  /**
   * @internal The error the caller gets when no step answered: the original one when no step failed (none
   * applied, or none had an answer), else the last step's error, with the original as its `cause`.
   */
  exhausted(error: unknown, failure: { error: unknown } | undefined): unknown {
    if (failure === undefined) return error;
    const last = failure.error;
    if (last instanceof Error && last !== error && last.cause === undefined) {
      Object.defineProperty(last, 'cause', { value: error, writable: true, configurable: true, enumerable: false });
    }
    return last;
  }
}

/**
 * An Observable call with a fallback chain: passes its values on (remembering the last one when the chain has a
 * last-known-good step); on an error the chain applies to, runs the steps in turn.
 */
class FallbackCall implements Sink, Unsubscribable {
  private ended = false;
  private closed = false;
  private inner: Unsubscribable | undefined = undefined;
  private replacement: Unsubscribable | undefined = undefined;
  private original: unknown = undefined;
  private failure: { error: unknown } | undefined = undefined;
  private hasValue = false;
  private last: unknown = undefined;

  constructor(
    readonly policy: FallbackPolicy,
    readonly invocation: Invocation,
    readonly downstream: Sink,
  ) {}

  start(next: SinkStep): Unsubscribable {
    const inner = next(this.invocation, this);
    if (this.ended) inner?.unsubscribe();
    else this.inner = inner;
    return this;
  }

  next(value: unknown): void {
    if (this.policy.hooks.remember !== undefined) {
      this.hasValue = true;
      this.last = value;
    }
    this.downstream.next(value);
  }

  error(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.inner = undefined;
    let applies: boolean;
    try {
      applies = this.policy.appliesTo(error);
    } catch (failure) {
      this.downstream.error(failure);
      return;
    }
    if (!applies) {
      this.downstream.error(error);
      return;
    }
    this.original = error;
    this.fromStep(0);
  }

  /** @internal Runs the chain from step `index`: the first step that answers is subscribed to. */
  fromStep(index: number): void {
    const { steps } = this.policy;
    const { original, invocation } = this;
    for (let i = index; i < steps.length && !this.closed; i++) {
      const step = steps[i];
      let result: unknown;
      try {
        if (step.when !== undefined && !step.when(original)) continue;
        result = step.run(original, invocation);
      } catch (stepError) {
        this.failure = { error: stepError };
        continue;
      }
      if (result === NO_ANSWER) continue;
      if (!isObservable(result) && !isPromiseLike(result)) {
        // A plain value (a fixed value, a remembered answer): no Observable needed.
        this.downstream.next(this.policy.answered(i, original, invocation, result));
        this.downstream.complete();
        return;
      }
      const subscriber = subscriberOf(new StepSink(this, i));
      this.replacement = subscriber;
      liftToObservable(result).subscribe(subscriber);
      return;
    }
    if (!this.closed) this.downstream.error(this.policy.exhausted(original, this.failure));
  }

  /** @internal Step `index` produced nothing (`NO_ANSWER`) or failed before answering: the next one is tried. */
  handOver(index: number, failure: { error: unknown } | undefined): void {
    const replacement = this.replacement;
    this.replacement = undefined;
    replacement?.unsubscribe();
    if (failure !== undefined) this.failure = failure;
    this.fromStep(index + 1);
  }

  /** @internal */
  get originalError(): unknown {
    return this.original;
  }

  complete(): void {
    if (this.ended) return;
    this.ended = true;
    this.inner = undefined;
    if (this.hasValue) this.policy.hooks.remember?.(this.invocation, this.last);
    this.last = undefined;
    this.downstream.complete();
  }

  unsubscribe(): void {
    const { inner, replacement } = this;
    this.ended = this.closed = true;
    this.inner = this.replacement = undefined;
    inner?.unsubscribe();
    replacement?.unsubscribe();
  }
}

/**
 * The sink of one step's Observable: until the step's first value it may still hand over to the next step (on
 * `NO_ANSWER` or an error); once it has answered, its values, error and completion are the caller's.
 */
class StepSink implements Sink {
  private answered = false;
  private done = false;

  constructor(
    private readonly call: FallbackCall,
    private readonly index: number,
  ) {}

  next(value: unknown): void {
    if (this.done) return;
    if (!this.answered) {
      if (value === NO_ANSWER) {
        this.done = true;
        this.call.handOver(this.index, undefined);
        return;
      }
      this.answered = true;
      value = this.call.policy.answered(this.index, this.call.originalError, this.call.invocation, value);
    }
    this.call.downstream.next(value);
  }

  error(error: unknown): void {
    if (this.done) return;
    this.done = true;
    if (this.answered) this.call.downstream.error(error);
    else this.call.handOver(this.index, { error });
  }

  complete(): void {
    if (this.done) return;
    this.done = true;
    // An empty answer is an answer (as a fallback returning an empty Observable always was).
    if (!this.answered) this.call.policy.answered(this.index, this.call.originalError, this.call.invocation, undefined);
    this.call.downstream.complete();
  }
}
