import type { BulkheadOptions } from '../../core/bulkhead/bulkhead.options.js';
import type { RateLimitOptions } from '../../core/rate-limit/rate-limit.options.js';
import type { RetryOptions } from '../../core/retry/retry.options.js';
import type { TimeoutOptions } from '../../core/timeout/timeout.options.js';
import type { ConfigurableKindOf } from '../pipeline/canonical-order.js';

/**
 * One policy of a pipeline built without decorators, as its decorator's arguments: a configuration name
 * (`'gateway'`), inline options (`{ maxAttempts: 3 }`), or both (`['gateway', { maxAttempts: 2 }]`, where the named
 * configuration wins field by field, as with `@Retry('gateway', { maxAttempts: 2 })`).
 */
export type PolicyReference<TOptions> =
  string | Partial<TOptions> | readonly [name: string, options: Partial<TOptions>];

/** Bulkhead options of a pipeline: a `key` function gets no arguments (a pipeline has no method arguments). */
export type PipelineBulkheadOptions = Omit<BulkheadOptions, 'key'> & {
  /** The compartment of a call. Default: one compartment. */
  key?: () => string;
};

/** Rate-limit options of a pipeline: an outbound quota, `'global'` (default) or a key function with no arguments. */
export type PipelineRateLimitOptions = Omit<RateLimitOptions, 'key'> & {
  /** Whose bucket a call spends from. Default `'global'`. */
  key?: 'global' | (() => string);
};

/** A fallback of a pipeline: a function of the error, or a fixed value; `when(error)` limits what it replaces. */
export type PipelineFallback<TResult> =
  | ((error: unknown) => TResult | PromiseLike<TResult>)
  | {
      /** The replacement result. */
      readonly value: TResult;
      /** Only errors for which this returns `true` are replaced. Default: every error. */
      readonly when?: (error: unknown) => boolean;
    };

/**
 * Where a pipeline's option differs from `PolicyReference` of its kind's options: a timeout may be a number of ms;
 * `retryNonIdempotent` does not apply (a pipeline is not a handler); key functions of bulkheads and rate limits get
 * no arguments.
 */
interface PipelineOptionOverrides {
  timeout: number | PolicyReference<TimeoutOptions>;
  retry: PolicyReference<Omit<RetryOptions, 'retryNonIdempotent'>>;
  bulkhead: PolicyReference<PipelineBulkheadOptions>;
  rateLimit: PolicyReference<PipelineRateLimitOptions>;
}

/** One option per configurable kind of the canonical order, under its `defaults` key: a new kind adds its own. */
type PipelinePolicyOptions = {
  readonly [
    Kind in ConfigurableKindOf as Kind['defaultsKey']
  ]?: Kind['defaultsKey'] extends keyof PipelineOptionOverrides
    ? PipelineOptionOverrides[Kind['defaultsKey']]
    : PolicyReference<Kind['libraryDefaults']>;
};

/**
 * The policies of `ResilienceService.execute(options, fn)` and `ResilienceService.pipeline(options)`: the same
 * options, named configurations, validation, registry and events as the decorators, composed in the same canonical
 * order whatever order they are written in. Every policy is optional. One option per configurable kind (derived from
 * the canonical order), each its decorator's arguments: `timeout` (`@Timeout`: ms per attempt, a configuration name,
 * options or both), `retry` (`@Retry`), `circuitBreaker` (`@CircuitBreaker`: pipelines and methods naming the same
 * configuration share one breaker), `bulkhead` (`@Bulkhead`: they share its slots), `rateLimit` (`@RateLimit`, an
 * outbound quota: without a token a call fails with `RateLimitExceededError` or waits `maxWait`).
 *
 * @typeParam TResult what the callback returns, so a fallback must answer the same type.
 */
export interface ResiliencePipelineOptions<TResult = unknown> extends PipelinePolicyOptions {
  /**
   * The pipeline's name in events and messages (`ResilienceService.<name>`), and the name of its inline circuit
   * breaker, bulkhead and rate limit in the registry. Required when one of those is given by options alone (no
   * configuration name), so that two pipelines never share state by accident.
   */
  readonly name?: string;
  /** `@Fallback`: outermost, once every other policy gave up. */
  readonly fallback?: PipelineFallback<TResult>;
}
