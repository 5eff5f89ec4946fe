import { Inject, Injectable, RequestMethod } from '@nestjs/common';
import {
  DEFAULT_BULKHEAD_OPTIONS,
  validateBulkheadOptions,
  type BulkheadOptions,
} from '../../core/bulkhead/bulkhead.options.js';
import {
  DEFAULT_RATE_LIMIT_OPTIONS,
  validateRateLimitOptions,
  type RateLimitOptions,
} from '../../core/rate-limit/rate-limit.options.js';
import {
  DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  validateCircuitBreakerOptions,
  type CircuitBreakerOptions,
} from '../../core/circuit-breaker/circuit-breaker.options.js';
import { DEFAULT_RETRY_OPTIONS, validateRetryOptions, type RetryOptions } from '../../core/retry/retry.options.js';
import { DEFAULT_RETRY_BUDGET_OPTIONS, validateRetryBudgetOptions } from '../../core/retry/retry-budget.options.js';
import type { RetryBudgetState } from '../../core/retry/retry-budget.state.js';
import { DEFAULT_HEDGE_OPTIONS, validateHedgeOptions, type HedgeOptions } from '../../core/hedge/hedge.options.js';
import { HedgePolicy } from '../../core/hedge/hedge.policy.js';
import {
  DEFAULT_TIMEOUT_OPTIONS,
  validateTimeoutOptions,
  type TimeoutOptions,
} from '../../core/timeout/timeout.options.js';
import { BulkheadPolicy } from '../../core/bulkhead/bulkhead.policy.js';
import { AdaptiveBulkheadPolicy } from '../../core/bulkhead/adaptive-bulkhead.policy.js';
import { CircuitBreakerPolicy } from '../../core/circuit-breaker/circuit-breaker.policy.js';
import { ResilienceConfigError } from '../../core/errors/resilience-config.error.js';
import { closestName } from '../../core/validation/did-you-mean.js';
import { ResilienceEvents } from '../../core/events/resilience-events.js';
import { ResilienceRegistry } from '../../core/registry/resilience-registry.js';
import type { PolicyTarget } from '../../core/events/resilience-event.interface.js';
import type { FallbackHandler } from '../../core/fallback/fallback.policy.js';
import { FallbackPolicy } from '../../core/fallback/fallback.policy.js';
import type { ResiliencePolicy } from '../../core/pipeline/policy.interface.js';
import type { Invocation } from '../../core/pipeline/invocation.js';
import type { RateLimitKey } from '../../core/rate-limit/rate-limit.options.js';
import { RateLimitPolicy } from '../../core/rate-limit/rate-limit.policy.js';
import { RetryPolicy } from '../../core/retry/retry.policy.js';
import { TimeoutPolicy } from '../../core/timeout/timeout.policy.js';
import { OptionsValidator } from '../../core/validation/options.validator.js';
import type { FallbackSpec } from '../../decorators/fallback.decorator.js';
import {
  BULKHEAD_METADATA,
  CIRCUIT_BREAKER_METADATA,
  FALLBACK_METADATA,
  HEDGE_METADATA,
  RATE_LIMIT_METADATA,
  RETRY_METADATA,
  SKIP_RATE_LIMIT_METADATA,
  TIMEOUT_METADATA,
  type HandlerRateLimitKey,
  type PolicySpec,
} from '../../decorators/resilience.metadata.js';
import { RESILIENCE_MODULE_OPTIONS } from '../module/resilience.module-definition.js';
import type { ResilienceModuleOptions } from '../module/resilience-module.options.js';
import { withoutUndefined } from '../../core/validation/without-undefined.js';
import type { HandlerRateLimit } from '../handlers/handler-rate-limits.js';

/** Routes whose requests must not run twice: hedging them needs `hedgeNonIdempotent: true`. */
const NON_IDEMPOTENT = new Set([RequestMethod.POST, RequestMethod.PATCH, RequestMethod.ALL]);

/** Everything the factory needs to know about one configurable policy kind. */
export interface PolicyKind<TOptions> {
  /** Word used in messages, e.g. `retry`. */
  readonly label: string;
  /** The decorator, e.g. `@Retry`. */
  readonly decorator: string;
  /** Key of the named configurations in the module options, e.g. `retries`. */
  readonly configKey: 'timeouts' | 'retries' | 'circuitBreakers' | 'bulkheads' | 'rateLimits';
  /** Key of the module-wide defaults, e.g. `retry`. */
  readonly defaultsKey: 'timeout' | 'retry' | 'circuitBreaker' | 'bulkhead' | 'rateLimit';
  /** Library defaults. */
  readonly libraryDefaults: TOptions;
  /** The options normalized (numeric strings as numbers); throws a configuration error naming a bad option. */
  readonly validate: (options: TOptions, validator: OptionsValidator) => TOptions;
}

const TIMEOUT_KIND: PolicyKind<TimeoutOptions> = {
  label: 'timeout',
  decorator: '@Timeout',
  configKey: 'timeouts',
  defaultsKey: 'timeout',
  libraryDefaults: DEFAULT_TIMEOUT_OPTIONS,
  validate: validateTimeoutOptions,
};

const RETRY_KIND: PolicyKind<RetryOptions> = {
  label: 'retry',
  decorator: '@Retry',
  configKey: 'retries',
  defaultsKey: 'retry',
  libraryDefaults: DEFAULT_RETRY_OPTIONS,
  validate: validateRetryOptions,
};

const CIRCUIT_BREAKER_KIND: PolicyKind<CircuitBreakerOptions> = {
  label: 'circuit breaker',
  decorator: '@CircuitBreaker',
  configKey: 'circuitBreakers',
  defaultsKey: 'circuitBreaker',
  libraryDefaults: DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  validate: validateCircuitBreakerOptions,
};

const BULKHEAD_KIND: PolicyKind<BulkheadOptions> = {
  label: 'bulkhead',
  decorator: '@Bulkhead',
  configKey: 'bulkheads',
  defaultsKey: 'bulkhead',
  libraryDefaults: DEFAULT_BULKHEAD_OPTIONS,
  validate: validateBulkheadOptions,
};

const RATE_LIMIT_KIND: PolicyKind<RateLimitOptions> = {
  label: 'rate limit',
  decorator: '@RateLimit',
  configKey: 'rateLimits',
  defaultsKey: 'rateLimit',
  libraryDefaults: DEFAULT_RATE_LIMIT_OPTIONS,
  validate: validateRateLimitOptions,
};

/** Every configurable kind, for validating all named configurations at startup. */
const CONFIGURABLE_KINDS = [
  TIMEOUT_KIND,
  RETRY_KIND,
  CIRCUIT_BREAKER_KIND,
  BULKHEAD_KIND,
  RATE_LIMIT_KIND,
] as PolicyKind<object>[];

/** The named configurations of `kind` in the module options. */
function namedConfigurations<TOptions>(
  options: ResilienceModuleOptions,
  kind: PolicyKind<TOptions>,
): Record<string, Partial<TOptions>> {
  return (options[kind.configKey] ?? {}) as Record<string, Partial<TOptions>>;
}

/** The module-wide defaults of `kind`. */
function moduleDefaults<TOptions>(options: ResilienceModuleOptions, kind: PolicyKind<TOptions>): Partial<TOptions> {
  return (options.defaults?.[kind.defaultsKey] ?? {}) as Partial<TOptions>;
}

/** The policies of one decorated method, in the canonical order (outermost first). */
export interface ResolvedPolicies {
  /** Every policy the method's decorators ask for. */
  readonly all: readonly ResiliencePolicy[];
  /** The same without retry, for requests that must not be repeated; `undefined` when they may be retried too. */
  readonly withoutRetry: readonly ResiliencePolicy[] | undefined;
}

/** Where a decorated method runs: a provider method wrapped by the explorer, or a handler under the interceptor. */
export type PolicySite = 'provider' | 'handler';

/** The receiver of `@Fallback('method')` for a call: the instance, or a Promise of it (request-scoped handlers). */
export type ReceiverOf = (invocation: Invocation) => unknown;

/** What one stage of the canonical order needs to build its policies for a method. */
interface StageContext {
  readonly method: object;
  readonly prototype: object;
  readonly declaredAt: string;
  readonly site: PolicySite;
  readonly receiverOf: ReceiverOf;
}

/** One stage of the canonical order: the policies it contributes for a method (none when not decorated). */
interface Stage {
  /** The stage's name, as in the docs' order diagram. */
  readonly name:
    'fallback' | 'total timeout' | 'retry' | 'hedge' | 'circuit breaker' | 'rate limit' | 'timeout' | 'bulkhead';
  readonly build: (factory: PipelineFactory, context: StageContext) => readonly ResiliencePolicy[];
}

/**
 * The canonical order, outermost first, whatever order the decorators are written in:
 * `Fallback( totalTimeout( Retry( Hedge( CircuitBreaker( RateLimit( Timeout( Bulkhead( call ))))))))`.
 * Fallback answers once everything else gave up; the total timeout spans every attempt and backoff; retry sits outside
 * the breaker (an open circuit fails fast and is not retried); each hedged attempt goes through the breaker and gets
 * its own per-attempt timeout; the per-attempt timeout wraps the bulkhead, so queue
 * wait counts against it. On handlers the rate limit is a guard, before all of this.
 */
const CANONICAL_ORDER: readonly Stage[] = [
  { name: 'fallback', build: (factory, context) => factory.fallbackStage(context) },
  { name: 'total timeout', build: (factory, context) => factory.timeoutStage(context, 'total') },
  { name: 'retry', build: (factory, context) => factory.retryStage(context) },
  { name: 'hedge', build: (factory, context) => factory.hedgeStage(context) },
  { name: 'circuit breaker', build: (factory, context) => factory.circuitBreakerStage(context) },
  { name: 'rate limit', build: (factory, context) => factory.rateLimitStage(context) },
  { name: 'timeout', build: (factory, context) => factory.timeoutStage(context, 'attempt') },
  { name: 'bulkhead', build: (factory, context) => factory.bulkheadStage(context) },
];

const POLICY_METADATA = [
  TIMEOUT_METADATA,
  RETRY_METADATA,
  CIRCUIT_BREAKER_METADATA,
  BULKHEAD_METADATA,
  FALLBACK_METADATA,
  RATE_LIMIT_METADATA,
  HEDGE_METADATA,
] as const;

/**
 * Turns the metadata of the policy decorators into a method's pipeline: the policies in the canonical order, with
 * the precedence of options applied and validated. Every mistake surfaces here, at bootstrap, as a
 * {@link ResilienceConfigError}.
 */
@Injectable()
export class PipelineFactory {
  constructor(
    @Inject(RESILIENCE_MODULE_OPTIONS) private readonly options: ResilienceModuleOptions,
    private readonly events: ResilienceEvents,
    private readonly registry: ResilienceRegistry,
  ) {
    this.validateNamedConfigurations();
    this.createRetryBudgets();
  }

  /**
   * The policies for `method`, or `undefined` when it carries no policy decorator. On handlers `@RateLimit` is left
   * out (the rate-limit guard applies it before everything else) and `receiverOf` gives `@Fallback('method')` its
   * receiver; provider methods use the instance they are called on.
   */
  create(
    method: object,
    prototype: object,
    target: PolicyTarget,
    site: PolicySite,
    receiverOf: ReceiverOf = (invocation) => invocation.thisArg,
  ): ResolvedPolicies | undefined {
    // On handlers @RateLimit alone is the guard's business: no pipeline for it.
    const keys = site === 'provider' ? POLICY_METADATA : POLICY_METADATA.filter((key) => key !== RATE_LIMIT_METADATA);
    if (!keys.some((key) => Reflect.hasMetadata(key, method))) return undefined;
    const context: StageContext = {
      method,
      prototype,
      declaredAt: `${target.className}.${target.methodName}`,
      site,
      receiverOf,
    };
    const all: ResiliencePolicy[] = [];
    let withoutRetry: ResiliencePolicy[] | undefined;
    for (const stage of CANONICAL_ORDER) {
      const policies = stage.build(this, context);
      if (stage.name === 'retry' && policies.length > 0 && !this.retriesEveryRequest(context)) withoutRetry = [...all];
      all.push(...policies);
      if (stage.name !== 'retry') withoutRetry?.push(...policies);
    }
    return { all, withoutRetry };
  }

  /** @internal */
  fallbackStage({ method, prototype, declaredAt, receiverOf }: StageContext): ResiliencePolicy[] {
    const spec = readSpec<FallbackSpec>(FALLBACK_METADATA, method);
    return spec ? [this.fallbackPolicy(spec, prototype, declaredAt, receiverOf)] : [];
  }

  /** @internal The total budget (`total`), outside retry, or the per-attempt timeout (`duration`), inside it. */
  timeoutStage({ method, declaredAt }: StageContext, scope: 'total' | 'attempt'): ResiliencePolicy[] {
    const spec = readSpec<PolicySpec<TimeoutOptions>>(TIMEOUT_METADATA, method);
    if (spec === undefined) return [];
    const { name, options } = this.resolveOptions(TIMEOUT_KIND, spec, declaredAt);
    if (scope === 'attempt') return [new TimeoutPolicy(name, options.duration, 'attempt', this.events)];
    return options.total === undefined ? [] : [new TimeoutPolicy(name, options.total, 'total', this.events)];
  }

  /** @internal */
  retryStage({ method, declaredAt }: StageContext): ResiliencePolicy[] {
    const spec = readSpec<PolicySpec<RetryOptions>>(RETRY_METADATA, method);
    if (spec === undefined) return [];
    const { name, options } = this.resolveOptions(RETRY_KIND, spec, declaredAt);
    return [new RetryPolicy(name, options, this.events, this.retryBudget(options.budget, name, declaredAt))];
  }

  /** @internal `@Hedge`, inside retry: each retry attempt may be hedged. */
  hedgeStage({ method, declaredAt, site }: StageContext): ResiliencePolicy[] {
    const spec = readSpec<PolicySpec<HedgeOptions>>(HEDGE_METADATA, method);
    if (spec === undefined) return [];
    const validator = new OptionsValidator('hedge', declaredAt, declaredAt);
    const options = validateHedgeOptions({ ...DEFAULT_HEDGE_OPTIONS, ...withoutUndefined(spec.options) }, validator);
    if (site === 'handler' && options.hedgeNonIdempotent !== true) {
      const requestMethod = Reflect.getMetadata('method', method) as RequestMethod | undefined;
      if (requestMethod !== undefined && NON_IDEMPOTENT.has(requestMethod)) {
        validator.fail(
          'hedgeNonIdempotent',
          options.hedgeNonIdempotent,
          `must be true to hedge a ${RequestMethod[requestMethod]} route: its requests would run twice`,
        );
      }
    }
    if (typeof options.delay === 'object' && this.options.latencySource === undefined) {
      validator.fail(
        'delay',
        options.delay,
        'needs recent latencies: give the module option latencySource (the observability integration provides ' +
          'one), or a fixed delay in ms',
      );
    }
    const retry = readSpec<PolicySpec<RetryOptions>>(RETRY_METADATA, method);
    const budgetName = retry && this.resolveOptions(RETRY_KIND, retry, declaredAt).options.budget;
    const budget = budgetName === undefined ? undefined : this.registry.retryBudgets.get(budgetName);
    return [new HedgePolicy(declaredAt, options, this.events, budget, this.options.latencySource)];
  }

  /** The retry budget a `@Retry` names, which must be one of the module option `retryBudgets`. */
  private retryBudget(budget: string | undefined, policy: string, declaredAt: string): RetryBudgetState | undefined {
    if (budget === undefined) return undefined;
    const budgets = this.registry.retryBudgets;
    if (budgets.has(budget)) return budgets.get(budget);
    const known = budgets.names();
    const closest = closestName(budget, known);
    return new OptionsValidator('retry', policy, declaredAt).fail(
      'budget',
      budget,
      'names no retry budget' +
        (closest === undefined ? '' : ` (did you mean '${closest}'?)`) +
        ': ResilienceModule options "retryBudgets" has ' +
        (known.length ? known.map((key) => `"${key}"`).join(', ') : 'none'),
    );
  }

  /** Every budget of `retryBudgets` is validated and created at bootstrap, used or not (the registry lists it). */
  private createRetryBudgets(): void {
    for (const [name, named] of Object.entries(this.options.retryBudgets ?? {})) {
      const validator = new OptionsValidator('retry budget', name, 'ResilienceModule options "retryBudgets"');
      const options = validateRetryBudgetOptions(
        { ...DEFAULT_RETRY_BUDGET_OPTIONS, ...withoutUndefined(named) },
        validator,
      );
      this.registry.retryBudgetFor(name, options);
    }
  }

  /** @internal */
  circuitBreakerStage({ method, declaredAt }: StageContext): ResiliencePolicy[] {
    const spec = readSpec<PolicySpec<CircuitBreakerOptions>>(CIRCUIT_BREAKER_METADATA, method);
    if (spec === undefined) return [];
    const { name, options } = this.resolveOptions(CIRCUIT_BREAKER_KIND, spec, declaredAt);
    if (options.coordination === 'redis' && this.registry.coordinator === undefined) {
      new OptionsValidator('circuit breaker', name, declaredAt).fail(
        'coordination',
        'redis',
        'needs a coordination of replicas: store: new RedisStore(...) or coordination: redisStore ' +
          'in the ResilienceModule options',
      );
    }
    return [new CircuitBreakerPolicy(this.registry.circuitBreakerFor(name, options))];
  }

  /** @internal Provider methods only: on handlers the rate-limit guard applies the limits. */
  rateLimitStage({ method, declaredAt, site }: StageContext): ResiliencePolicy[] {
    const specs = site === 'provider' ? readRateLimitSpecs(method) : undefined;
    // Several limits ("3 per second and 100 per minute"): each call spends from every one.
    return (specs ?? []).map((spec, index) => {
      const inlineName = inlineRateLimitName(declaredAt, index, specs!.length);
      const { name, options } = this.resolveOptions(RATE_LIMIT_KIND, spec, declaredAt, inlineName);
      if (options.key === 'ip') {
        new OptionsValidator('rate limit', name, declaredAt).fail(
          'key',
          'ip',
          'applies to handlers only (HTTP, GraphQL, WebSocket)',
        );
      }
      return new RateLimitPolicy(this.registry.rateLimitFor(name, options), invocationKey(options.key));
    });
  }

  /** @internal */
  bulkheadStage({ method, declaredAt }: StageContext): ResiliencePolicy[] {
    const spec = readSpec<PolicySpec<BulkheadOptions>>(BULKHEAD_METADATA, method);
    if (spec === undefined) return [];
    const { name, options } = this.resolveOptions(BULKHEAD_KIND, spec, declaredAt);
    const bulkhead = this.registry.bulkheadFor(name, options);
    return [bulkhead.adaptive ? new AdaptiveBulkheadPolicy(bulkhead) : new BulkheadPolicy(bulkhead)];
  }

  /** Whether a handler retries requests that must not be repeated (POST, mutations): `retryNonIdempotent`. */
  private retriesEveryRequest({ method, declaredAt, site }: StageContext): boolean {
    if (site === 'provider') return true;
    const spec = readSpec<PolicySpec<RetryOptions>>(RETRY_METADATA, method)!;
    return this.resolveOptions(RETRY_KIND, spec, declaredAt).options.retryNonIdempotent === true;
  }

  /**
   * The limits of a handler: its own `@RateLimit`s (which a class-level `@SkipRateLimit()` does not remove), else
   * its class's unless either is marked `@SkipRateLimit()`. `undefined` when it has none.
   */
  rateLimits(
    handler: object,
    classRef: object,
    target: PolicyTarget,
  ): { limits: HandlerRateLimit[]; declaredOnHandler: boolean } | undefined {
    const own = readRateLimitSpecs(handler);
    const skipped = Reflect.getMetadata(SKIP_RATE_LIMIT_METADATA, handler) === true;
    let specs = own;
    if (specs === undefined && !skipped && Reflect.getMetadata(SKIP_RATE_LIMIT_METADATA, classRef) !== true) {
      specs = readRateLimitSpecs(classRef);
    }
    if (specs === undefined) return undefined;
    const declaredAt = `${target.className}.${target.methodName}`;
    const limits = specs.map((spec, index) => {
      const inlineName = inlineRateLimitName(declaredAt, index, specs.length);
      const { name, options } = this.resolveOptions(RATE_LIMIT_KIND, spec, declaredAt, inlineName);
      return { limiter: this.registry.rateLimitFor(name, options), key: (options.key ?? 'ip') as HandlerRateLimitKey };
    });
    return { limits, declaredOnHandler: own !== undefined };
  }

  /** Merges library defaults < module defaults < inline options < named configuration, then validates. */
  private resolveOptions<TOptions extends object>(
    kind: PolicyKind<TOptions>,
    spec: PolicySpec<TOptions>,
    declaredAt: string,
    inlineName = declaredAt,
  ): { name: string; options: TOptions } {
    const name = spec.name ?? inlineName;
    let named: Partial<TOptions> = {};
    if (spec.name !== undefined) {
      const configurations = namedConfigurations(this.options, kind);
      if (!Object.hasOwn(configurations, spec.name)) {
        const known = Object.keys(configurations);
        const closest = closestName(spec.name, known);
        throw new ResilienceConfigError(
          `${kind.decorator}('${spec.name}') on ${declaredAt} names a ${kind.label} configuration that does not exist` +
            (closest === undefined ? '' : ` (did you mean '${closest}'?)`) +
            `: ResilienceModule options "${kind.configKey}" has ` +
            (known.length ? known.map((key) => `"${key}"`).join(', ') : 'none'),
          spec.name,
        );
      }
      named = configurations[spec.name] ?? {};
    }
    const options = {
      ...kind.libraryDefaults,
      ...moduleDefaults(this.options, kind),
      ...withoutUndefined(spec.options),
      ...withoutUndefined(named),
    };
    return { name, options: kind.validate(options, new OptionsValidator(kind.label, name, declaredAt)) };
  }

  private fallbackPolicy(
    spec: FallbackSpec,
    prototype: object,
    declaredAt: string,
    receiverOf: ReceiverOf,
  ): FallbackPolicy {
    const validator = new OptionsValidator('fallback', declaredAt, declaredAt);
    validator.optionalFunction('when', spec.when);
    const handler = this.fallbackHandler(spec, prototype, validator, receiverOf);
    return new FallbackPolicy(declaredAt, handler, spec.when, this.events);
  }

  private fallbackHandler(
    spec: FallbackSpec,
    prototype: object,
    validator: OptionsValidator,
    receiverOf: ReceiverOf,
  ): FallbackHandler {
    const { handler } = spec;
    if ('value' in handler) {
      const { value } = handler;
      return () => value;
    }
    if ('fn' in handler) {
      const { fn } = handler;
      return (error, invocation) => (fn as (...args: unknown[]) => unknown)(error, ...invocation.args);
    }
    const methodName = handler.method;
    if (typeof (prototype as Record<string, unknown>)[methodName] !== 'function') {
      validator.fail('method', methodName, 'must name a method of the same class');
    }
    // Looked up on the receiver at call time, so request-scoped instances and subclasses use their own method.
    type Receiver = Record<string, (...args: unknown[]) => unknown>;
    return (error, invocation) => {
      const receiver = receiverOf(invocation);
      if (receiver instanceof Promise) {
        return receiver.then((resolved: Receiver) => resolved[methodName](error, ...invocation.args));
      }
      return (receiver as Receiver)[methodName](error, ...invocation.args);
    };
  }

  /** Named configurations are checked even when no decorator uses them yet: a typo should not wait for a deploy. */
  private validateNamedConfigurations(): void {
    for (const kind of CONFIGURABLE_KINDS) {
      for (const [name, named] of Object.entries(namedConfigurations(this.options, kind))) {
        const options = {
          ...kind.libraryDefaults,
          ...moduleDefaults(this.options, kind),
          ...withoutUndefined(named),
        };
        kind.validate(options, new OptionsValidator(kind.label, name, `ResilienceModule options "${kind.configKey}"`));
      }
    }
  }
}

/**
 * The name of an inline `@RateLimit`: `Class.method`, or `Class.method#1`, `#2` ... in source order when the method
 * has several (each is its own limit with its own buckets).
 */
function inlineRateLimitName(declaredAt: string, index: number, count: number): string {
  return count === 1 ? declaredAt : `${declaredAt}#${index + 1}`;
}

/** The `@RateLimit` specs recorded on a method or class (one per decorator), or `undefined` when there are none. */
function readRateLimitSpecs(target: object): readonly PolicySpec<RateLimitOptions>[] | undefined {
  const specs = Reflect.getMetadata(RATE_LIMIT_METADATA, target) as readonly PolicySpec<RateLimitOptions>[] | undefined;
  return specs !== undefined && specs.length > 0 ? specs : undefined;
}

function readSpec<T>(key: string, method: object): T | undefined {
  return Reflect.getMetadata(key, method) as T | undefined;
}

/** The bucket key of a provider call: one shared bucket, or the key function applied to the call's arguments. */
function invocationKey(key: RateLimitKey | undefined): (invocation: Invocation) => string {
  if (typeof key !== 'function') return () => 'global';
  const keyFn = key as (...args: unknown[]) => unknown;
  return (invocation) => String(keyFn(...invocation.args));
}
