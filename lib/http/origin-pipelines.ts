import { BulkheadPolicy } from '../core/bulkhead/bulkhead.policy.js';
import { CircuitBreakerPolicy } from '../core/circuit-breaker/circuit-breaker.policy.js';
import { CallEventsPolicy } from '../core/events/call-events.policy.js';
import type { ResilienceEvents } from '../core/events/resilience-events.js';
import { HedgePolicy } from '../core/hedge/hedge.policy.js';
import { CallMetricsPolicy } from '../core/metrics/call-metrics.policy.js';
import type { PolicyTarget } from '../core/events/resilience-event.interface.js';
import { invokeAsActive } from '../core/pipeline/invocation.js';
import type { PromiseStep, ResiliencePolicy } from '../core/pipeline/policy.interface.js';
import { composePromise } from '../core/pipeline/resilient-method.js';
import { RateLimitPolicy } from '../core/rate-limit/rate-limit.policy.js';
import type { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import { RetryPolicy } from '../core/retry/retry.policy.js';
import { TimeoutPolicy } from '../core/timeout/timeout.policy.js';
import { isRetryableHttpFailure } from './http-classification.js';
import type { ResolvedHttpClientOptions } from './resolve-http-options.js';

/** The policies of one origin of one client: the same states, with and without the stages that repeat a request. */
export interface OriginPipeline {
  /** `<client> <origin>` (or `<client> *` for the origins past `maxOrigins`): its name in the registry. */
  readonly name: string;
  /** The target of its invocations (`this` of an attempt is the request) and events. */
  readonly target: PolicyTarget;
  /** For requests that may be sent more than once: retry and hedge included. */
  readonly repeatable: PromiseStep;
  /** For requests that must be sent once (a POST without an idempotency key): no retry, no hedge. */
  readonly once: PromiseStep;
  /**
   * The total timeout, outermost: not a step of its own but run by the call itself around the steps (see
   * `HttpCallRun`), which saves a Promise, a deadline and four closures per call.
   */
  readonly total: TimeoutPolicy | undefined;
}

/** The origin every origin past `maxOrigins` shares. */
const OVERFLOW = '*';

/**
 * The pipelines of one client, one per origin of the URLs it calls, made on first use: one flaky host opens its own
 * breaker and fills its own bulkhead, never another's. At most `maxOrigins` origins get their own; the others share
 * one (`<client> *`), so the registry, the metrics' labels and this map stay bounded whatever URLs the code builds.
 */
export class OriginPipelines {
  private readonly byOrigin = new Map<string, OriginPipeline>();

  constructor(
    private readonly options: ResolvedHttpClientOptions,
    private readonly registry: ResilienceRegistry,
    private readonly events: ResilienceEvents,
    /** The innermost step: one attempt, with the request as `this`. */
    private readonly attempt: (this: object) => Promise<unknown>,
  ) {}

  /** The pipeline of `origin` (`https://api.example.com`). */
  for(origin: string): OriginPipeline {
    const known = this.byOrigin.get(origin);
    if (known !== undefined) return known;
    // Past the bound, new origins share the overflow pipeline and are not remembered one by one.
    const own = this.byOrigin.size < this.options.maxOrigins;
    const key = own ? origin : OVERFLOW;
    let pipeline = this.byOrigin.get(key);
    if (pipeline === undefined) {
      pipeline = this.build(key);
      this.byOrigin.set(key, pipeline);
    }
    return pipeline;
  }

  /** The origins that have their own pipeline (and `*` once the bound was reached). */
  origins(): string[] {
    return [...this.byOrigin.keys()];
  }

  private build(origin: string): OriginPipeline {
    const { options, registry, events } = this;
    const name = `${options.name} ${origin}`;
    const target = { className: 'ResilientHttpClient', methodName: name };
    // Canonical order, outermost first: totalTimeout( Retry( Hedge( CircuitBreaker( RateLimit( Timeout( Bulkhead(
    // attempt ))))))), the total timeout run by the call (see `total`), the call's events and metrics inside it.
    const total =
      options.totalTimeout === undefined ? undefined : new TimeoutPolicy(name, options.totalTimeout, 'total', events);
    const outer: ResiliencePolicy[] = [new CallEventsPolicy(name, events)];
    if (registry.targets.enabled) outer.push(new CallMetricsPolicy(registry.targets.targetFor(name)));
    const repeating: ResiliencePolicy[] = [];
    if (options.retry !== undefined) {
      const retryIf = options.retry.retryIf ?? isRetryableHttpFailure;
      repeating.push(new RetryPolicy(name, { ...options.retry, retryIf }, events));
    }
    if (options.hedge !== undefined) repeating.push(new HedgePolicy(name, options.hedge, events));
    const inner: ResiliencePolicy[] = [];
    if (options.circuitBreaker !== undefined) {
      inner.push(new CircuitBreakerPolicy(registry.circuitBreakerFor(name, options.circuitBreaker)));
    }
    if (options.rateLimit !== undefined) {
      inner.push(new RateLimitPolicy(registry.rateLimitFor(name, options.rateLimit), () => 'global'));
    }
    if (options.attemptTimeout !== undefined) {
      inner.push(new TimeoutPolicy(name, options.attemptTimeout, 'attempt', events));
    }
    if (options.bulkhead !== undefined) inner.push(new BulkheadPolicy(registry.bulkheadFor(name, options.bulkhead)));
    const { attempt } = this;
    // The attempt as the active invocation's method (it reads its invocation there), its throw a rejection.
    const terminal: PromiseStep = (invocation) => {
      try {
        return invokeAsActive(invocation, attempt) as Promise<unknown>;
      } catch (error) {
        return Promise.reject(error);
      }
    };
    const repeatable = composePromise([...outer, ...repeating, ...inner], terminal);
    const once = repeating.length === 0 ? repeatable : composePromise([...outer, ...inner], terminal);
    return { name, target, repeatable, once, total };
  }
}
