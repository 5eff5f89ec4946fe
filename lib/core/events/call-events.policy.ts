import type { Unsubscribable } from 'rxjs';
import type { Invocation } from '../pipeline/invocation.js';
import type { ObservableStep, PromiseStep } from '../pipeline/policy.interface.js';
import { observableStepOf, sinkStepOf, type Sink, type SinkPolicy, type SinkStep } from '../pipeline/sink.js';
import type { ResilienceEvents } from './resilience-events.js';

/**
 * Reports how each call of one target ended (`call-success`, `call-failure`), outermost, to listeners that asked
 * for those events by name. While nobody listens a call passes straight through: one field read, no allocation.
 */
export class CallEventsPolicy implements SinkPolicy {
  constructor(
    /** The target's name (`Class.method`), the events' `policy`. */
    readonly name: string,
    private readonly events: ResilienceEvents,
  ) {}

  wrapPromise(next: PromiseStep): PromiseStep {
    const { events } = this;
    return (invocation) => {
      if (!events.callsObserved) return next(invocation);
      const start = performance.now();
      return next(invocation).then(
        (value) => {
          this.succeeded(invocation, start);
          return value;
        },
        (error: unknown) => {
          this.failed(invocation, start, error);
          throw error;
        },
      );
    };
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    return observableStepOf(this.wrapSink(sinkStepOf(next)));
  }

  /** @internal */
  wrapSink(next: SinkStep): SinkStep {
    const { events } = this;
    return (invocation, sink) =>
      events.callsObserved ? new ReportedCall(this, invocation, sink).begin(next) : next(invocation, sink);
  }

  /** @internal */
  succeeded(invocation: Invocation, start: number): void {
    this.events.emit({
      type: 'call-success',
      policy: this.name,
      target: invocation.target,
      attempts: invocation.attempt,
      duration: performance.now() - start,
      fallback: invocation.answeredByFallback,
    });
  }

  /** @internal */
  failed(invocation: Invocation, start: number, error: unknown): void {
    this.events.emit({
      type: 'call-failure',
      policy: this.name,
      target: invocation.target,
      attempts: invocation.attempt,
      duration: performance.now() - start,
      error,
    });
  }
}

/**
 * One reported Observable call: a success once it completes, or once its caller unsubscribes after a value
 * (`firstValueFrom`); a failure on error; nothing when its caller gives up before any value.
 */
class ReportedCall implements Sink, Unsubscribable {
  private readonly start = performance.now();
  private answered = false;
  private ended = false;
  private inner: Unsubscribable | undefined = undefined;

  constructor(
    private readonly policy: CallEventsPolicy,
    private readonly invocation: Invocation,
    private readonly downstream: Sink,
  ) {}

  begin(next: SinkStep): Unsubscribable {
    const inner = next(this.invocation, this);
    if (this.ended) inner?.unsubscribe();
    else this.inner = inner;
    return this;
  }

  next(value: unknown): void {
    this.answered = true;
    this.downstream.next(value);
  }

  error(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.inner = undefined;
    this.policy.failed(this.invocation, this.start, error);
    this.downstream.error(error);
  }

  complete(): void {
    if (this.ended) return;
    this.ended = true;
    this.inner = undefined;
    this.policy.succeeded(this.invocation, this.start);
    this.downstream.complete();
  }

  unsubscribe(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.answered) this.policy.succeeded(this.invocation, this.start);
    const { inner } = this;
    this.inner = undefined;
    inner?.unsubscribe();
  }
}
