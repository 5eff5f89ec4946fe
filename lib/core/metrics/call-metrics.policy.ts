import type { Unsubscribable } from 'rxjs';
import type { Invocation } from '../pipeline/invocation.js';
import type { ObservableStep, PromiseStep } from '../pipeline/policy.interface.js';
import { observableStepOf, sinkStepOf, type Sink, type SinkPolicy, type SinkStep } from '../pipeline/sink.js';
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
 * One measured Observable call: the duration runs to the end (complete or error). A caller that unsubscribes after a
 * value took its answer (`firstValueFrom`): a success, timed to then. One that unsubscribes before any value gave up
 * on the call: it is not recorded.
 */
class MeasuredCall implements Sink, Unsubscribable {
  private readonly start = performance.now();
  private ended = false;
  private answered = false;
  private inner: Unsubscribable | undefined = undefined;

  constructor(
    private readonly target: TargetMetricsState,
    private readonly invocation: Invocation,
    private readonly downstream: Sink,
  ) {}

  begin(next: SinkStep): this {
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
    this.target.record(failureOutcome(error), performance.now() - this.start);
    this.downstream.error(error);
  }

  complete(): void {
    if (this.ended) return;
    this.ended = true;
    this.inner = undefined;
    this.recordAnswer();
    this.downstream.complete();
  }

  private recordAnswer(): void {
    this.target.record(this.invocation.answeredByFallback ? 'fallback' : 'success', performance.now() - this.start);
  }

  unsubscribe(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.answered) this.recordAnswer();
    const { inner } = this;
    this.inner = undefined;
    inner?.unsubscribe();
  }
}
