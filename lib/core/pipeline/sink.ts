import { Observable, Subscriber, type TeardownLogic, type Unsubscribable } from 'rxjs';
import type { Invocation } from './invocation.js';
import type { ObservableStep, ResiliencePolicy } from './policy.interface.js';

/**
 * Where one call's notifications go: the policy outside, or the caller's RxJS Subscriber (which is one).
 * As with an Observer, nothing follows `error` or `complete`.
 * @internal
 */
export interface Sink {
  next(value: unknown): void;
  error(error: unknown): void;
  complete(): void;
}

/**
 * Runs one call into `sink`, like subscribing to an Observable: each run is a new call. Never throws (a failure
 * goes to `sink.error`). Returns what stops the call, which does nothing once the call has ended; `undefined` when
 * there is nothing to stop.
 * @internal
 */
export type SinkStep = (invocation: Invocation, sink: Sink) => Unsubscribable | undefined;

/**
 * A policy whose Observable path can run fused: it hands one object of its own down the chain as the sink of the
 * rest, instead of an RxJS Observable and Subscriber (plus closures) per policy and call. The Observable pipeline is
 * the hot path of handlers; this keeps it near the cost of the Promise one.
 * @internal
 */
export interface SinkPolicy extends ResiliencePolicy {
  wrapSink(next: SinkStep): SinkStep;
}

function isSinkPolicy(policy: ResiliencePolicy): policy is SinkPolicy {
  return typeof (policy as Partial<SinkPolicy>).wrapSink === 'function';
}

/**
 * What subscribes `sink` to an RxJS Observable: the sink itself when it is the caller's Subscriber (a policy that
 * passed it on, such as a rate limit allowing at once), else one plain Subscriber forwarding to it (what
 * `subscribe(observer)` would wrap in two objects).
 * @internal
 */
export function subscriberOf(sink: Sink): Subscriber<unknown> {
  return sink instanceof Subscriber ? (sink as Subscriber<unknown>) : new Subscriber(sink);
}

/**
 * The rest of an Observable pipeline as a {@link SinkStep}: each run subscribes anew.
 * @internal
 */
export function sinkStepOf(next: ObservableStep): SinkStep {
  return (invocation, sink) => {
    try {
      return next(invocation).subscribe(subscriberOf(sink));
    } catch (error) {
      sink.error(error);
      return undefined;
    }
  };
}

/**
 * The cold Observable of one call through a {@link SinkStep}: each subscription runs the step with the caller's
 * Subscriber as the sink. It carries the step and the invocation as fields: `new Observable(fn)` would need a fresh
 * closure per call, where this shares one subscribe function between all calls.
 */
class StepObservable extends Observable<unknown> {
  constructor(
    readonly step: SinkStep,
    readonly invocation: Invocation,
  ) {
    super(runStep);
  }
}

/** RxJS calls the subscribe function with the Observable as `this`; what the step returns is the teardown. */
function runStep(this: Observable<unknown>, subscriber: Subscriber<unknown>): TeardownLogic {
  const self = this as StepObservable;
  return self.step(self.invocation, subscriber);
}

/**
 * A {@link SinkStep} as an Observable step.
 * @internal
 */
export function observableStepOf(step: SinkStep): ObservableStep {
  return (invocation) => new StepObservable(step, invocation);
}

/** The rest of a pipeline, in whichever form the policy outside it takes: converted only where the forms meet. */
type Step =
  | { readonly sink: SinkStep; readonly observable?: undefined }
  | { readonly observable: ObservableStep; readonly sink?: undefined };

function chain(policies: readonly ResiliencePolicy[], terminal: Step): Step {
  let step = terminal;
  for (let i = policies.length - 1; i >= 0; i--) {
    const policy = policies[i];
    step = isSinkPolicy(policy)
      ? { sink: policy.wrapSink(step.sink ?? sinkStepOf(step.observable)) }
      : { observable: policy.wrapObservable(step.observable ?? observableStepOf(step.sink)) };
  }
  return step;
}

/**
 * Chains `policies` (outermost first) around `terminal` as one {@link SinkStep}: runs of fusable policies pass
 * sinks, the others get Observables, as `wrapObservable` promises.
 * @internal
 */
export function composeSinks(policies: readonly ResiliencePolicy[], terminal: SinkStep): SinkStep {
  const step = chain(policies, { sink: terminal });
  return step.sink ?? sinkStepOf(step.observable);
}

/**
 * Chains `policies` (outermost first) around `terminal` into one Observable step, once per method or handler at
 * bootstrap. The library's own policies run fused inside it (one object per policy and call, see `SinkPolicy`); any
 * other policy gets `wrapObservable`.
 */
export function composeObservable(policies: readonly ResiliencePolicy[], terminal: ObservableStep): ObservableStep {
  const step = chain(policies, { observable: terminal });
  return step.observable ?? observableStepOf(step.sink);
}
