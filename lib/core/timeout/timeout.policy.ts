import type { Unsubscribable } from 'rxjs';
import { TimeoutError } from '../errors/timeout.error.js';
import type { ResilienceEvents } from '../events/resilience-events.js';
import { DeadlineQueue, type DeadlineNode } from './deadline-queue.js';
import type { AdaptiveDuration } from './adaptive-duration.js';
import type { Invocation } from '../pipeline/invocation.js';
import { observableStepOf, sinkStepOf, type Sink, type SinkStep } from '../pipeline/sink.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';

/**
 * Gives up a call that takes longer than `duration` milliseconds: the caller gets a {@link TimeoutError}, an
 * Observable source is unsubscribed and the attempt's AbortSignal (if the method asked for one) is aborted.
 * With `scope: 'total'` it guards the whole call across retries instead of one attempt. With an
 * {@link AdaptiveDuration} (attempt scope) the duration follows the latencies of recent successful attempts.
 */
export class TimeoutPolicy implements ResiliencePolicy {
  /** @internal The deadlines of a fixed duration (an adaptive timeout's come from {@link adaptive}). */
  readonly deadlines: DeadlineQueue;

  constructor(
    readonly name: string,
    private readonly duration: number,
    /** @internal */
    readonly scope: 'attempt' | 'total',
    private readonly events: ResilienceEvents,
    /** @internal Set for an adaptive timeout: its duration and deadlines change with the downstream's latency. */
    readonly adaptive?: AdaptiveDuration,
  ) {
    this.deadlines = new DeadlineQueue(duration);
  }

  /** @internal The deadlines of a call starting now. */
  deadlinesNow(): DeadlineQueue {
    return this.adaptive === undefined ? this.deadlines : this.adaptive.deadlines();
  }

  wrapPromise(next: PromiseStep): PromiseStep {
    const { adaptive, deadlines } = this;
    if (adaptive === undefined) return (invocation) => this.within(deadlines, invocation, next);
    // A duration chosen per call, and the duration of each attempt that succeeds in time recorded.
    return (invocation) => {
      const start = performance.now();
      return this.within(adaptive.deadlines(), invocation, next, () => adaptive.record(performance.now() - start));
    };
  }

  /** Runs one attempt against a deadline of `deadlines`; `onTime` is called when it succeeds before it. */
  private within(
    deadlines: DeadlineQueue,
    invocation: Invocation,
    next: PromiseStep,
    onTime?: () => void,
  ): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const deadline = deadlines.add(() => reject(this.expire(invocation, deadlines.duration)));
      let running: Promise<unknown>;
      try {
        running = next(invocation);
      } catch (error) {
        // A step that throws instead of rejecting must not leave its deadline to report a false timeout later.
        deadlines.clear(deadline);
        reject(error);
        return;
      }
      running.then(
        (value) => {
          deadlines.clear(deadline);
          onTime?.();
          resolve(value);
        },
        (error: unknown) => {
          deadlines.clear(deadline);
          reject(error);
        },
      );
    });
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    return observableStepOf(this.wrapSink(sinkStepOf(next)));
  }

  /** @internal */
  wrapSink(next: SinkStep): SinkStep {
    if (this.adaptive === undefined) {
      return (invocation, sink) => new TimeoutCall(this, this.deadlines, invocation, sink).start(next);
    }
    return (invocation, sink) => new TimeoutCall(this, this.deadlinesNow(), invocation, sink).start(next);
  }

  /**
   * Builds the error, stops the work that is still running and reports the event. An adaptive timeout records the
   * attempt as lasting its whole duration (it lasted at least that): were timed-out attempts left out, the
   * percentile would only ever see the fast ones and the timeout could never grow back when the downstream slows.
   * @internal
   */
  expire(invocation: Invocation, duration = this.duration): TimeoutError {
    this.adaptive?.record(duration);
    const error = new TimeoutError(this.name, duration, this.scope);
    if (this.scope === 'total') invocation.cancel(error);
    else invocation.abortAttempt(error);
    if (this.events.observed) {
      this.events.emit({
        type: 'timeout',
        policy: this.name,
        target: invocation.target,
        attempt: invocation.attempt,
        duration,
        scope: this.scope,
      });
    }
    return error;
  }
}

/**
 * One Observable call under a timeout, and its own deadline node. The deadline is for the first value (or the end):
 * a stream that has started answering keeps flowing. At the deadline the rest is unsubscribed and the caller gets
 * the error.
 */
class TimeoutCall implements Sink, Unsubscribable, DeadlineNode {
  older?: DeadlineNode = undefined;
  newer?: DeadlineNode = undefined;
  at = 0;
  private armed = true;
  private ended = false;
  private inner: Unsubscribable | undefined = undefined;
  /** When the attempt started, for an adaptive timeout. */
  private readonly startedAt: number;

  constructor(
    private readonly policy: TimeoutPolicy,
    private readonly deadlines: DeadlineQueue,
    private readonly invocation: Invocation,
    private readonly downstream: Sink,
  ) {
    this.startedAt = policy.adaptive === undefined ? 0 : performance.now();
  }

  start(next: SinkStep): Unsubscribable {
    this.deadlines.schedule(this);
    let inner: Unsubscribable | undefined;
    try {
      inner = next(this.invocation, this);
    } catch (error) {
      // A step that throws instead of erroring must not leave its deadline to report a false timeout later.
      if (!this.ended) this.error(error);
      return this;
    }
    if (this.ended) inner?.unsubscribe();
    else this.inner = inner;
    return this;
  }

  private disarm(): void {
    if (this.armed) {
      this.armed = false;
      this.deadlines.clear(this);
    }
  }

  /** The attempt answered in time (a first value, or the end). */
  private answered(): void {
    this.disarm();
    this.policy.adaptive?.record(performance.now() - this.startedAt);
  }

  /** The deadline passed (the queue already let go of this node). */
  expire(): void {
    this.armed = false;
    this.ended = true;
    // The attempt is aborted before it is unsubscribed, so that what runs inside (an adaptive bulkhead) can tell a
    // timeout from a caller that merely went away.
    const error = this.policy.expire(this.invocation, this.deadlines.duration);
    const { inner } = this;
    this.inner = undefined;
    inner?.unsubscribe();
    this.downstream.error(error);
  }

  next(value: unknown): void {
    if (this.armed) this.answered();
    this.downstream.next(value);
  }

  error(error: unknown): void {
    if (this.ended) return;
    this.disarm();
    this.ended = true;
    this.inner = undefined;
    this.downstream.error(error);
  }

  complete(): void {
    if (this.ended) return;
    if (this.armed) this.answered();
    this.ended = true;
    this.inner = undefined;
    this.downstream.complete();
  }

  unsubscribe(): void {
    if (this.ended) return;
    this.ended = true;
    this.disarm();
    const { inner } = this;
    this.inner = undefined;
    inner?.unsubscribe();
  }
}
