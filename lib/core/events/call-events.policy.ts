import type { Invocation } from '../pipeline/invocation.js';
import type { ObservableStep, PromiseStep } from '../pipeline/policy.interface.js';
import { observableStepOf, sinkStepOf, type Sink, type SinkPolicy, type SinkStep } from '../pipeline/sink.js';
import { TimedCallSink } from '../pipeline/timed-call-sink.js';
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

/** One reported Observable call (see {@link TimedCallSink} for what counts as an answer). */
class ReportedCall extends TimedCallSink {
  constructor(
    private readonly policy: CallEventsPolicy,
    invocation: Invocation,
    downstream: Sink,
  ) {
    super(invocation, downstream);
  }

  protected succeeded(): void {
    this.policy.succeeded(this.invocation, this.start);
  }

  protected failed(error: unknown): void {
    this.policy.failed(this.invocation, this.start, error);
  }
}
