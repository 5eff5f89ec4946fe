import { Observable, type Subscription } from 'rxjs';
import type { ResilienceEvents } from '../events/resilience-events.js';
import type { Invocation } from '../pipeline/invocation.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';
import type { ChaosInjectionKind, ChaosPlan, ChaosState } from './chaos.state.js';

/**
 * Injects what a chaos experiment draws (latency, a fault, an outcome) innermost, around the call itself, so that
 * every real policy outside it (Timeout, Retry, CircuitBreaker, Fallback) handles the injection as it would a real
 * failure. Injected latency ends at once when the attempt is aborted (its timeout), leaving no timer behind.
 */
export class ChaosPolicy implements ResiliencePolicy {
  readonly name: string;

  constructor(
    private readonly experiment: ChaosState,
    private readonly events: ResilienceEvents,
  ) {
    this.name = experiment.name;
  }

  wrapPromise(next: PromiseStep): PromiseStep {
    return (invocation) => {
      let plan: ChaosPlan | undefined;
      try {
        plan = this.experiment.plan(invocation.args);
      } catch (error) {
        // A throwing enabledWhen fails the call like a throwing key function does.
        return Promise.reject(error);
      }
      if (plan === undefined) return next(invocation);
      this.report(invocation, plan);
      const { replace, delay } = plan;
      const run = (): Promise<unknown> => {
        if (replace === 'fault') return Promise.reject(this.experiment.fault());
        if (replace === 'outcome') return Promise.resolve(this.experiment.outcome());
        return next(invocation);
      };
      return delay === undefined ? run() : sleep(invocation, delay).then(run);
    };
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    return (invocation) =>
      new Observable<unknown>((subscriber) => {
        const plan = this.experiment.plan(invocation.args);
        if (plan === undefined) return next(invocation).subscribe(subscriber);
        this.report(invocation, plan);
        let inner: Subscription | undefined;
        const start = () => {
          if (plan.replace === 'fault') subscriber.error(this.experiment.fault());
          else if (plan.replace === 'outcome') {
            subscriber.next(this.experiment.outcome());
            subscriber.complete();
          } else inner = next(invocation).subscribe(subscriber);
        };
        if (plan.delay === undefined) {
          start();
          return () => inner?.unsubscribe();
        }
        // A timeout or the caller unsubscribes: the delay ends here, with its timer.
        const timer = setTimeout(start, plan.delay);
        return () => {
          clearTimeout(timer);
          inner?.unsubscribe();
        };
      });
  }

  private report(invocation: Invocation, plan: ChaosPlan): void {
    if (!this.events.observed) return;
    if (plan.delay !== undefined) this.emit(invocation, 'latency', plan.delay);
    if (plan.replace !== undefined) this.emit(invocation, plan.replace, undefined);
  }

  private emit(invocation: Invocation, injected: ChaosInjectionKind, delay: number | undefined): void {
    this.events.emit({
      type: 'chaos-injected',
      policy: this.name,
      target: invocation.target,
      attempt: invocation.attempt,
      injected,
      ...(delay === undefined ? {} : { delay }),
    });
  }
}

/** Waits `ms`, or rejects at once with the reason when the attempt is aborted (its timeout fired). */
function sleep(invocation: Invocation, ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const previous = invocation.onAttemptAbort;
    const timer = setTimeout(() => {
      invocation.onAttemptAbort = previous;
      resolve();
    }, ms);
    invocation.onAttemptAbort = (reason) => {
      clearTimeout(timer);
      invocation.onAttemptAbort = previous;
      previous?.(reason);
      reject(reason);
    };
  });
}
