import type { ModuleRef } from '@nestjs/core';
import type { Observable } from 'rxjs';
import type { PolicyTarget } from '../core/events/resilience-event.interface.js';
import type { ResilienceEvents } from '../core/events/resilience-events.js';
import type { Invocation } from '../core/pipeline/invocation.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../core/pipeline/policy.interface.js';
import type { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import type { RateLimitDecision } from '../core/rate-limit/rate-limit-store.interface.js';
import type { RateLimitState } from '../core/rate-limit/rate-limit.state.js';
import type { ResilienceModuleOptions } from '../nest/module/resilience-module.options.js';
import { PipelineFactory } from '../nest/pipeline/pipeline.factory.js';
import type { PolicySite, ReceiverOf, ResolvedPolicies } from '../nest/pipeline/stage.js';
import type { HandlerIdempotencySpec } from '../nest/pipeline/stages/idempotent.stage.js';
import type { ResilienceTestingOptions } from './testing.options.js';

/** Whether the policies of a test's application run; read on every call, switched by the kit. */
export class PolicySwitch {
  constructor(public on: boolean) {}
}

/**
 * The pipeline factory of a test's application: the same policies, each behind a switch that lets the call straight
 * through when off (to test business logic alone), and retries without jitter when asked for.
 */
export class TestingPipelineFactory extends PipelineFactory {
  constructor(
    options: ResilienceModuleOptions,
    events: ResilienceEvents,
    registry: ResilienceRegistry,
    moduleRef: ModuleRef,
    testing: ResilienceTestingOptions,
    readonly policySwitch = new PolicySwitch(testing.policies !== 'off'),
  ) {
    super(testing.jitter === 'keep' ? options : withoutJitter(options), events, registry, moduleRef);
  }

  override create(
    method: object,
    prototype: object,
    target: PolicyTarget,
    site: PolicySite,
    receiverOf?: ReceiverOf,
  ): ResolvedPolicies | undefined {
    const resolved = super.create(method, prototype, target, site, receiverOf);
    if (resolved === undefined) return undefined;
    return {
      all: this.switchable(resolved.all),
      withoutRetry: resolved.withoutRetry && this.switchable(resolved.withoutRetry),
    };
  }

  /** The rate-limit guards of handlers admit every request while the switch is off (nothing spent). */
  override rateLimits(
    handler: object,
    classRef: object,
    target: PolicyTarget,
  ): ReturnType<PipelineFactory['rateLimits']> {
    const resolved = super.rateLimits(handler, classRef, target);
    if (resolved === undefined) return undefined;
    const limits = resolved.limits.map((limit) => ({
      ...limit,
      limiter: switchedLimiter(limit.limiter, this.policySwitch),
    }));
    return { ...resolved, limits };
  }

  /** Handlers' `@Idempotent` steps aside too while the switch is off: every request runs the handler. */
  override handlerIdempotency(method: object, target: PolicyTarget): HandlerIdempotencySpec | undefined {
    const resolved = super.handlerIdempotency(method, target);
    if (resolved === undefined) return undefined;
    return { ...resolved, active: () => this.policySwitch.on };
  }

  override createFromSpecs(specs: ReadonlyMap<string, unknown>, declaredAt: string): readonly ResiliencePolicy[] {
    return this.switchable(super.createFromSpecs(specs, declaredAt));
  }

  private switchable(policies: readonly ResiliencePolicy[]): ResiliencePolicy[] {
    return policies.map((policy) => new SwitchedPolicy(policy, this.policySwitch));
  }
}

/** A policy that steps aside while the switch is off: the rest of the pipeline runs as if it were not there. */
class SwitchedPolicy implements ResiliencePolicy {
  readonly name: string;

  constructor(
    private readonly policy: ResiliencePolicy,
    private readonly policySwitch: PolicySwitch,
  ) {
    this.name = policy.name;
  }

  wrapPromise(next: PromiseStep): PromiseStep {
    const wrapped = this.policy.wrapPromise(next);
    return (invocation: Invocation) => (this.policySwitch.on ? wrapped(invocation) : next(invocation));
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    const wrapped = this.policy.wrapObservable(next);
    return (invocation: Invocation): Observable<unknown> =>
      this.policySwitch.on ? wrapped(invocation) : next(invocation);
  }
}

/** A rate limit that answers "allowed, bucket full" without spending while the switch is off. */
function switchedLimiter(limiter: RateLimitState, policySwitch: PolicySwitch): RateLimitState {
  const admitted: RateLimitDecision = {
    allowed: true,
    remaining: limiter.capacity,
    waitMs: 0,
    retryAfterMs: 0,
    resetMs: 0,
  };
  const switched = Object.create(limiter) as RateLimitState;
  switched.consume = (key, maxWaitMs, rule) => (policySwitch.on ? limiter.consume(key, maxWaitMs, rule) : admitted);
  // Several limits on one handler are spent together (RateLimitState.consumeAll), which asks this.
  switched.bypassed = () => !policySwitch.on;
  return switched;
}

/** The options with jitter `'none'` in `defaults.retry` and in every named retry (named ones win over defaults). */
function withoutJitter(options: ResilienceModuleOptions): ResilienceModuleOptions {
  const retries = Object.fromEntries(
    Object.entries(options.retries ?? {}).map(([name, retry]) => [name, { ...retry, jitter: 'none' as const }]),
  );
  return {
    ...options,
    defaults: { ...options.defaults, retry: { ...options.defaults?.retry, jitter: 'none' } },
    retries,
  };
}
