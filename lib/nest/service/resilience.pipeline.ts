import type { Observable } from 'rxjs';
import type { PolicyTarget } from '../../core/events/resilience-event.interface.js';
import { activeInvocation } from '../../core/pipeline/invocation.js';
import type { ResiliencePolicy } from '../../core/pipeline/policy.interface.js';
import { createResilientMethod } from '../../core/pipeline/resilient-method.js';
import { InvocationAttempt, type PipelineAttempt } from './pipeline-attempt.js';

type Callback = (attempt: PipelineAttempt) => unknown;
type Wrapped = (this: unknown, callback: Callback) => unknown;

/** Runs the callback as the pipeline's "method": the running invocation is active while it is called. */
function runCallback(callback: Callback): unknown {
  return callback(new InvocationAttempt(activeInvocation()!));
}

/**
 * Policies composed once, in the canonical order, that run any callback: `ResilienceService.pipeline(options)`.
 * Build it once (a field, a constructor) and call `execute` as often as you like; its circuit breaker, bulkhead and
 * rate limit live in the registry under their names, as the decorators' do.
 *
 * @typeParam TFallback what its fallback answers (`never` without one).
 */
export class ResiliencePipeline<TFallback = never> {
  private readonly promiseCall: Wrapped;
  private readonly observableCall: Wrapped;

  /** @internal Built by `ResilienceService`. */
  constructor(
    /** The pipeline's name in events and messages: `ResilienceService.<name>`. */
    readonly target: PolicyTarget,
    /** The policies, outermost first. */
    readonly policies: readonly ResiliencePolicy[],
  ) {
    this.promiseCall = createResilientMethod(runCallback, target, policies, 'promise');
    this.observableCall = createResilientMethod(runCallback, target, policies, 'observable');
  }

  /**
   * Runs `fn` through the policies; every retry calls it again with the new attempt. Resolves with what it answers
   * (or what the fallback answers), rejects with the last error (a `TimeoutError`, `BrokenCircuitError` ...).
   */
  execute<TResult>(fn: (attempt: PipelineAttempt) => TResult | PromiseLike<TResult>): Promise<TResult | TFallback> {
    return this.promiseCall(fn) as Promise<TResult | TFallback>;
  }

  /**
   * Runs the Observable `fn` returns through the policies, lazily: every subscription is a new call, a retry
   * subscribes to a new Observable from `fn`, a timeout unsubscribes.
   */
  observe<TResult>(fn: (attempt: PipelineAttempt) => Observable<TResult>): Observable<TResult | TFallback> {
    return this.observableCall(fn) as Observable<TResult | TFallback>;
  }
}
