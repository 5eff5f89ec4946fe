import type { Unsubscribable } from 'rxjs';
import { ResilienceError } from '../errors/resilience.error.js';
import type { ResilienceEvents } from '../events/resilience-events.js';
import type { Invocation } from '../pipeline/invocation.js';
import { observableStepOf, sinkStepOf, type Sink, type SinkStep } from '../pipeline/sink.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';
import { backoffDelay, longestBackoff } from './backoff.js';
import { isTransientError, retryAfterOf } from '../errors/error-classification.js';
import type { RetryOptions } from './retry.options.js';
import type { RetryBudgetState } from './retry-budget.state.js';
import { markRetryBudgetExhausted } from './retry-budget-exhausted.js';
import { HandledResult } from '../pipeline/handled-result.js';

/** Rejections by other policies: retrying them only adds load to something that already said no. */
const NEVER_RETRIED = new Set(['BROKEN_CIRCUIT', 'BULKHEAD_REJECTED', 'RATE_LIMIT_EXCEEDED', 'INVALID_CONFIGURATION']);

const NO_RETRY = -1;

/**
 * Calls again after a failure, up to `maxAttempts` attempts in total, waiting a growing, jittered delay between
 * attempts. The wait ends at once (and no further attempt starts) when the caller unsubscribes or a total timeout
 * gives the call up.
 */
export class RetryPolicy implements ResiliencePolicy {
  private readonly retryIf: (error: unknown, attempt: number) => boolean;
  /** @internal `retryOnResult`: a value it matches is a failed attempt. */
  readonly retryOnResult: ((value: unknown, attempt: number) => boolean) | undefined;

  constructor(
    readonly name: string,
    private readonly options: RetryOptions,
    private readonly events: ResilienceEvents,
    /** @internal The shared budget retries are spent from (`options.budget`), when there is one. */
    readonly budget?: RetryBudgetState,
    /**
     * @internal True under an `@Idempotent` lease derived from the method's policies: that lease counts each wait at
     * the backoff's longest ({@link longestBackoff}), so a `Retry-After` is honoured up to that, not `maxDelay` (a
     * longer wait would outlive the lease, and a client's retry would run the method a second time meanwhile).
     */
    private readonly retryAfterWithinBackoff = false,
  ) {
    this.retryIf = options.retryIf ?? isTransientError;
    this.retryOnResult = options.retryOnResult?.bind(options);
  }

  wrapPromise(next: PromiseStep): PromiseStep {
    const { budget, retryOnResult } = this;
    if (retryOnResult !== undefined) {
      // Checked only when the option is given: without it the first attempt's value goes straight back.
      const retryOnError = (invocation: Invocation) => (error: unknown) => this.retryAfter(error, invocation, next);
      return (invocation) => {
        budget?.recordCall();
        return next(invocation).then(
          (value) =>
            retryOnResult(value, invocation.attempt)
              ? this.retryAfter(new HandledResult(value), invocation, next)
              : value,
          retryOnError(invocation),
        );
      };
    }
    // The first attempt costs one `then`; the retry loop only starts after a failure.
    if (budget === undefined) {
      return (invocation) =>
        next(invocation).then(undefined, (error: unknown) => this.retryAfter(error, invocation, next));
    }
    return (invocation) => {
      budget.recordCall();
      return next(invocation).then(undefined, (error: unknown) => this.retryAfter(error, invocation, next));
    };
  }

  /**
   * The attempts after the first failed with `error` (or answered a value `retryOnResult` matched), until one
   * succeeds or no retry is left: then the last error is thrown, or the last value answered.
   * @internal Also the fused Promise path's (`fused-promise.ts`) way on after a failed first attempt.
   */
  async retryAfter(error: unknown, invocation: Invocation, next: PromiseStep): Promise<unknown> {
    let previousDelay = 0;
    for (;;) {
      const delay = this.delayBeforeRetry(error, invocation, previousDelay);
      if (delay === NO_RETRY) {
        if (error instanceof HandledResult) return error.value;
        throw error;
      }
      previousDelay = delay;
      await invocation.wait(delay);
      invocation.nextAttempt();
      let value: unknown;
      try {
        value = await next(invocation);
      } catch (failure) {
        error = failure;
        continue;
      }
      // A throwing predicate rejects the call with its error, outside the try: it is not a failed attempt.
      if (this.retryOnResult === undefined || !this.retryOnResult(value, invocation.attempt)) return value;
      error = new HandledResult(value);
    }
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    return observableStepOf(this.wrapSink(sinkStepOf(next)));
  }

  /**
   * Hand-written rather than RxJS's `retry` operator: the same re-subscriptions, with one object per call and
   * nothing else allocated until an attempt fails.
   * @internal
   */
  wrapSink(next: SinkStep): SinkStep {
    const { budget } = this;
    if (budget === undefined) return (invocation, sink) => new RetryCall(this, next, invocation, sink).attempt();
    return (invocation, sink) => {
      budget.recordCall();
      return new RetryCall(this, next, invocation, sink).attempt();
    };
  }

  /**
   * The attempts after a first one that failed with `error`, as an Observable call into `sink` (the loop's own object,
   * with `next` running the later attempts): the fused Observable path's (`fused-observable.ts`) way on.
   * @internal
   */
  retrySinkAfter(error: unknown, invocation: Invocation, next: SinkStep, sink: Sink): Unsubscribable {
    const call = new RetryCall(this, next, invocation, sink);
    call.error(error);
    return call;
  }

  /**
   * The wait before the next attempt, or {@link NO_RETRY}; reports the retry when there is one.
   * @internal
   */
  delayBeforeRetry(error: unknown, invocation: Invocation, previousDelay: number): number {
    const { attempt } = invocation;
    if (attempt >= this.options.maxAttempts) {
      if (this.events.observed && invocation.cancelled === undefined) this.gaveUp(error, invocation);
      return NO_RETRY;
    }
    if (invocation.cancelled !== undefined || !this.isRetryable(error, attempt)) return NO_RETRY;
    if (this.budget !== undefined && !this.budget.tryRetry()) {
      this.budgetExhausted(error, invocation);
      return NO_RETRY;
    }
    let delay = backoffDelay(this.options, attempt, previousDelay);
    const requested = retryAfterOf(error);
    if (requested !== undefined) {
      const ceiling = this.retryAfterWithinBackoff ? longestBackoff(this.options, attempt) : this.options.maxDelay;
      delay = Math.max(delay, Math.min(requested, ceiling));
    }
    if (this.events.observed) {
      const byResult = error instanceof HandledResult;
      this.events.emit({
        type: 'retry',
        policy: this.name,
        target: invocation.target,
        attempt,
        delay,
        error: byResult ? undefined : error,
        ...(byResult && { result: error.value }),
      });
    }
    return delay;
  }

  /** Every attempt was made and the last one failed (or answered a value `retryOnResult` matched): reported. */
  private gaveUp(error: unknown, invocation: Invocation): void {
    const byResult = error instanceof HandledResult;
    this.events.emit({
      type: 'retry-give-up',
      policy: this.name,
      target: invocation.target,
      attempts: invocation.attempt,
      byResult,
      error: byResult ? undefined : error,
      ...(byResult && { result: error.value }),
    });
  }

  /** No retry left in the budget: the call fails now with `error`, marked and reported so that logs say why. */
  private budgetExhausted(error: unknown, invocation: Invocation): void {
    const budget = this.budget!.name;
    markRetryBudgetExhausted(error, budget);
    if (this.events.observed) {
      this.events.emit({
        type: 'retry-budget-exhausted',
        policy: this.name,
        target: invocation.target,
        budget,
        attempt: invocation.attempt,
        error,
      });
    }
  }

  private isRetryable(error: unknown, attempt: number): boolean {
    if (error instanceof HandledResult) return true; // retryOnResult already said so
    if (error instanceof ResilienceError && NEVER_RETRIED.has(error.code)) return false;
    const { retryErrors, ignoreErrors } = this.options;
    if (ignoreErrors?.some((errorClass) => error instanceof errorClass)) return false;
    if (retryErrors && !retryErrors.some((errorClass) => error instanceof errorClass)) return false;
    return this.retryIf(error, attempt);
  }
}

/** An Observable call with retries: passes values on; after a failed attempt fails the call or starts the next. */
class RetryCall implements Sink, Unsubscribable {
  private previousDelay = 0;
  private attemptEnded = false;
  /** A value went downstream: later values are not checked by `retryOnResult` (the caller already has one). */
  private passedOn = false;
  private stopped = false;
  private backoff: ReturnType<typeof setTimeout> | undefined = undefined;
  private inner: Unsubscribable | undefined = undefined;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly step: SinkStep,
    private readonly invocation: Invocation,
    private readonly downstream: Sink,
  ) {}

  attempt(): Unsubscribable {
    this.backoff = undefined;
    this.attemptEnded = false;
    const inner = this.step(this.invocation, this);
    if (this.attemptEnded) inner?.unsubscribe();
    else this.inner = inner;
    return this;
  }

  next(value: unknown): void {
    if (this.attemptEnded || this.stopped) return;
    if (!this.passedOn && this.policy.retryOnResult !== undefined && this.retriedOn(value)) return;
    this.passedOn = true;
    this.downstream.next(value);
  }

  /**
   * `retryOnResult` on a value before anything was passed on: true when it ended the attempt (a retry is waiting, or
   * the predicate threw and the call failed). Without a retry left the value is passed on and the attempt goes on.
   */
  private retriedOn(value: unknown): boolean {
    const { invocation } = this;
    let delay: number;
    try {
      if (!this.policy.retryOnResult!(value, invocation.attempt)) return false;
      delay = this.policy.delayBeforeRetry(new HandledResult(value), invocation, this.previousDelay);
    } catch (failure) {
      this.endAttempt();
      this.stopped = true;
      this.downstream.error(failure);
      return true;
    }
    if (delay === NO_RETRY) return false;
    this.endAttempt();
    this.previousDelay = delay;
    invocation.nextAttempt();
    this.backoff = setTimeout(() => this.attempt(), delay);
    return true;
  }

  /** Ends the running attempt early; when it is still being started, `attempt()` unsubscribes it once it returns. */
  private endAttempt(): void {
    this.attemptEnded = true;
    const { inner } = this;
    this.inner = undefined;
    inner?.unsubscribe();
  }

  error(error: unknown): void {
    if (this.attemptEnded || this.stopped) return;
    this.attemptEnded = true;
    this.inner = undefined;
    let delay: number;
    try {
      delay = this.policy.delayBeforeRetry(error, this.invocation, this.previousDelay);
    } catch (failure) {
      error = failure; // a throwing retryIf fails the call with its error, as on the Promise path
      delay = NO_RETRY;
    }
    if (delay === NO_RETRY) {
      this.stopped = true;
      this.downstream.error(error);
      return;
    }
    this.previousDelay = delay;
    this.invocation.nextAttempt();
    this.backoff = setTimeout(() => this.attempt(), delay);
  }

  complete(): void {
    if (this.attemptEnded || this.stopped) return;
    this.attemptEnded = true;
    this.stopped = true;
    this.inner = undefined;
    this.downstream.complete();
  }

  /** The caller gave up: ends the running attempt, or the backoff wait before the next (none starts). */
  unsubscribe(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.backoff !== undefined) clearTimeout(this.backoff);
    this.backoff = undefined;
    const { inner } = this;
    this.inner = undefined;
    inner?.unsubscribe();
  }
}
