import type { Invocation } from '../pipeline/invocation.js';
import type { ObservableStep, PromiseStep } from '../pipeline/policy.interface.js';
import { observableStepOf, sinkStepOf, type Sink, type SinkPolicy, type SinkStep } from '../pipeline/sink.js';
import { TimedCallSink } from '../pipeline/timed-call-sink.js';
import { failureOutcome } from './call-outcome.js';
import type { TargetMetricsState } from './target-metrics.state.js';

/**
 * Measures each call of one decorated target (duration and outcome), outermost, so the duration is what the caller
 * waited (retries, backoff and fallback included). Added to a pipeline at bootstrap only when call metrics are
 * enabled: without them it is not in the chain at all, so it costs nothing.
 */
export class CallMetricsPolicy implements SinkPolicy {
  readonly name: string;

  constructor(private readonly target: TargetMetricsState) {
    this.name = target.name;
  }

  wrapPromise(next: PromiseStep): PromiseStep {
    const { target } = this;
    return (invocation) => {
      const start = performance.now();
      let running: Promise<unknown>;
      try {
        running = next(invocation);
      } catch (error) {
        target.record(failureOutcome(error), performance.now() - start);
        return Promise.reject(error);
      }
      return running.then(
        (value) => {
          target.record(invocation.answeredByFallback ? 'fallback' : 'success', performance.now() - start);
          return value;
        },
        (error: unknown) => {
          target.record(failureOutcome(error), performance.now() - start);
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
    return (invocation, sink) => new MeasuredCall(this.target, invocation, sink).begin(next);
  }
}

/**
 * One measured Observable call: the duration runs to the end (complete or error), or to the unsubscribe of a caller
 * that took a value (see {@link TimedCallSink}).
 */
class MeasuredCall extends TimedCallSink {
  constructor(
    private readonly target: TargetMetricsState,
    invocation: Invocation,
    downstream: Sink,
  ) {
    super(invocation, downstream);
  }

  protected succeeded(): void {
    this.target.record(this.invocation.answeredByFallback ? 'fallback' : 'success', performance.now() - this.start);
  }

  protected failed(error: unknown): void {
    this.target.record(failureOutcome(error), performance.now() - this.start);
  }
}
