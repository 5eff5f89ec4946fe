import type { Invocation } from '../pipeline/invocation.js';
import { observableStepOf, sinkStepOf, type SinkPolicy, type SinkStep } from '../pipeline/sink.js';
import type { ObservableStep, PromiseStep } from '../pipeline/policy.interface.js';
import { AdmittedCall, AdmittedSinkCall } from './admitted-call.js';
import type { BulkheadState } from './bulkhead.state.js';

/**
 * `@Bulkhead({ adaptive })`: admits a call while the calls in flight stay under the adaptive limit, rejects it at once
 * otherwise (no queue: under overload waiting only adds latency), and feeds every completed call's latency, with the
 * calls in flight when it started, to the limit's algorithm; timed-out calls as drops (see {@link AdmittedCall}).
 */
export class AdaptiveBulkheadPolicy implements SinkPolicy {
  readonly name: string;

  constructor(private readonly bulkhead: BulkheadState) {
    this.name = bulkhead.name;
  }

  wrapPromise(next: PromiseStep): PromiseStep {
    const bulkhead = this.bulkhead;
    const limit = bulkhead.adaptive!;
    const compartment = bulkhead.compartment('');
    return (invocation: Invocation) => {
      const inflight = compartment.active + 1;
      if (inflight > Math.floor(limit.limit)) return Promise.reject(bulkhead.reject('limit', invocation));
      const call = new AdmittedCall(bulkhead, compartment, invocation, inflight);
      return next(invocation).then(
        (value) => {
          call.succeeded();
          return value;
        },
        (error: unknown) => {
          call.failed(error);
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
    const bulkhead = this.bulkhead;
    const limit = bulkhead.adaptive!;
    const compartment = bulkhead.compartment('');
    return (invocation, sink) => {
      const inflight = compartment.active + 1;
      if (inflight > Math.floor(limit.limit)) {
        sink.error(bulkhead.reject('limit', invocation));
        return undefined;
      }
      return new AdmittedSinkCall(bulkhead, compartment, invocation, inflight, sink).run(next);
    };
  }
}
