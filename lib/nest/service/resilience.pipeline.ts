import type { Observable } from 'rxjs';
import type { PolicyTarget } from '../../core/events/resilience-event.interface.js';
import { activeInvocation } from '../../core/pipeline/invocation.js';
import { callerSignal } from '../../core/pipeline/caller-signal.js';
import type { ResiliencePolicy } from '../../core/pipeline/policy.interface.js';
import { createPromiseCall, createResilientMethod } from '../../core/pipeline/resilient-method.js';
import { InvocationAttempt, type PipelineAttempt } from './pipeline-attempt.js';

type Callback = (attempt: PipelineAttempt) => unknown;
type Wrapped = (this: unknown, callback: Callback) => unknown;

/** Options of one call of `ResilienceService.execute` / `ResiliencePipeline.execute`. */
export interface ExecuteOptions {
  /**
   * The caller's cancellation (cockatiel's `execute(fn, signal)`): aborting it gives the call up at once, whatever
   * it is doing (an attempt, a retry's backoff, a bulkhead's queue, hedges), aborts `attempt.signal`, and rejects with
   * a `CallAbortedError` (`code` `ABORTED`, `name` `AbortError`). Default: none.
   */
  readonly signal?: AbortSignal;
}

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
  private readonly promiseCall: ReturnType<typeof createPromiseCall>;
  private readonly observableCall: Wrapped;

  /** @internal Built by `ResilienceService`. */
  constructor(
    /** The pipeline's name in events and messages: `ResilienceService.<name>`. */
    readonly target: PolicyTarget,
    /** The policies, outermost first. */
    readonly policies: readonly ResiliencePolicy[],
  ) {
    this.promiseCall = createPromiseCall(policies, runCallback, target);
    this.observableCall = createResilientMethod(runCallback, target, policies, 'observable');
  }

  /**
   * Runs `fn` through the policies; every retry calls it again with the new attempt. Resolves with what it answers
   * (or what the fallback answers), rejects with the last error (a `TimeoutError`, `BrokenCircuitError` ...), or with
   * a `CallAbortedError` as soon as `options.signal` is aborted.
   */
  execute<TResult>(
    fn: (attempt: PipelineAttempt) => TResult | PromiseLike<TResult>,
    options?: ExecuteOptions,
  ): Promise<TResult | TFallback> {
    const signal = options?.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return Promise.reject(
        new TypeError(`ResilienceService: the option "signal" must be an AbortSignal, got ${typeof signal}`),
      );
    }
    return this.promiseCall(undefined, [fn], signal ?? callerSignal()) as Promise<TResult | TFallback>;
  }

  /**
   * Runs the Observable `fn` returns through the policies, lazily: every subscription is a new call, a retry
   * subscribes to a new Observable from `fn`, a timeout unsubscribes.
   */
  observe<TResult>(fn: (attempt: PipelineAttempt) => Observable<TResult>): Observable<TResult | TFallback> {
    return this.observableCall(fn) as Observable<TResult | TFallback>;
  }
}
