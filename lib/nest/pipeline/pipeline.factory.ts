import { Inject, Injectable, RequestMethod } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
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
  type ResolvedAdaptiveTimeoutOptions,
  type TimeoutOptions,
} from '../../core/timeout/timeout.options.js';
import { AdaptiveDuration } from '../../core/timeout/adaptive-duration.js';
import { BulkheadPolicy } from '../../core/bulkhead/bulkhead.policy.js';
import { ChaosPolicy } from '../../core/chaos/chaos.policy.js';
import { validateChaosOptions, type ChaosOptions } from '../../core/chaos/chaos.options.js';
import { checkChaosExperimentNames } from './chaos-experiment-names.js';
import { AdaptiveBulkheadPolicy } from '../../core/bulkhead/adaptive-bulkhead.policy.js';
import { CircuitBreakerPolicy } from '../../core/circuit-breaker/circuit-breaker.policy.js';
import { ResilienceConfigError } from '../../core/errors/resilience-config.error.js';
import { closestName } from '../../core/validation/did-you-mean.js';
import { ResilienceEvents } from '../../core/events/resilience-events.js';
import { ResilienceRegistry } from '../../core/registry/resilience-registry.js';
import type { PolicyTarget } from '../../core/events/resilience-event.interface.js';
import type { FallbackPolicy } from '../../core/fallback/fallback.policy.js';
import { buildFallbackPolicy } from './fallback.stage.js';
import { buildDeadLetterPolicy, registerReplay } from './dead-letter.stage.js';
import type { DeadLetterOptions } from '../../core/dead-letter/dead-letter.options.js';
import type { ResiliencePolicy } from '../../core/pipeline/policy.interface.js';
import type { Invocation } from '../../core/pipeline/invocation.js';
import type { RateLimitKey } from '../../core/rate-limit/rate-limit.options.js';
import { RateLimitPolicy } from '../../core/rate-limit/rate-limit.policy.js';
import { RetryPolicy } from '../../core/retry/retry.policy.js';
import { TimeoutPolicy } from '../../core/timeout/timeout.policy.js';
import { CallMetricsPolicy } from '../../core/metrics/call-metrics.policy.js';
import { CallEventsPolicy } from '../../core/events/call-events.policy.js';
import { MetricsLatencySource } from '../../core/hedge/metrics-latency.source.js';
import { OptionsValidator } from '../../core/validation/options.validator.js';
import {
  DEFAULT_IDEMPOTENCY_LEASE,
  DEFAULT_IDEMPOTENCY_OPTIONS,
  validateIdempotencyOptions,
  type IdempotencyOptions,
} from '../../core/idempotency/idempotency.options.js';
import type { IdempotencyStore } from '../../core/idempotency/idempotency-store.interface.js';
import { MemoryIdempotencyStore } from '../../core/idempotency/memory-idempotency.store.js';
import { IdempotentPolicy } from '../../core/idempotency/idempotent.policy.js';
import type { FallbackSpec } from '../../decorators/resilience.metadata.js';
import {
  BULKHEAD_METADATA,
  CIRCUIT_BREAKER_METADATA,
  DEAD_LETTER_METADATA,
  FALLBACK_METADATA,
  POLICY_METADATA_KEYS,
  IDEMPOTENT_METADATA,
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
import { isGraphQLMutation } from '../handlers/handler-kind.js';

/**
 * Routes whose requests must not run twice: hedging them needs `hedgeNonIdempotent: true` (as do GraphQL mutations).
 */
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

/** The kind of each decorator's metadata key, for pipelines named after configurations. */
const KIND_OF_METADATA: Readonly<Record<string, PolicyKind<object>>> = {
  [TIMEOUT_METADATA]: TIMEOUT_KIND,
  [RETRY_METADATA]: RETRY_KIND,
  [CIRCUIT_BREAKER_METADATA]: CIRCUIT_BREAKER_KIND,
  [BULKHEAD_METADATA]: BULKHEAD_KIND,
  [RATE_LIMIT_METADATA]: RATE_LIMIT_KIND,
} as Record<string, PolicyKind<object>>;

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

/**
 * Reads the spec recorded under a metadata key: from a decorated method's metadata, or from the options object of a
 * pipeline built without decorators (`ResilienceService`). The stages never know which.
 */
export type SpecReader = (key: string) => unknown;

/** What one stage of the canonical order needs to build its policies for a method. */
interface StageContext {
  readonly read: SpecReader;
  /** The decorated method, when there is one (not for a `ResilienceService` pipeline). */
  readonly method?: object;
  readonly prototype: object;
  readonly declaredAt: string;
  readonly site: PolicySite;
  readonly receiverOf: ReceiverOf;
}

/** One stage of the canonical order: the policies it contributes for a method (none when not decorated). */
interface Stage {
  /** The stage's name, as in the docs' order diagram. */
  readonly name:
    | 'idempotent'
    | 'dead letter'
    | 'fallback'
    | 'total timeout'
    | 'retry'
    | 'hedge'
    | 'circuit breaker'
    | 'rate limit'
    | 'timeout'
    | 'bulkhead'
    | 'chaos';
  readonly build: (factory: PipelineFactory, context: StageContext) => readonly ResiliencePolicy[];
}

/**
 * The canonical order, outermost first, whatever order the decorators are written in:
 * `Idempotent( DeadLetter( Fallback( totalTimeout( Retry( Hedge( CircuitBreaker( RateLimit( Timeout( Bulkhead(`
 * `chaos( call )))))))))))`.
 * Idempotent stores what the caller finally got (on handlers it is a step of the handler pipeline outside these
 * policies, see `handlerIdempotency`); a dead letter is written only when even the fallback gave up; Fallback answers
 * once everything else gave up; the total timeout spans every attempt and backoff; retry sits outside the breaker (an
 * open circuit fails fast and is not retried); each hedged attempt goes through the breaker and gets its own
 * per-attempt timeout; the per-attempt timeout wraps the bulkhead, so queue wait counts against it; chaos is
 * innermost, so every real policy handles what it injects. On handlers the rate limit is a guard, before all of this.
 */
const CANONICAL_ORDER: readonly Stage[] = [
  { name: 'idempotent', build: (factory, context) => factory.idempotentStage(context) },
  { name: 'dead letter', build: (factory, context) => factory.deadLetterStage(context) },
  { name: 'fallback', build: (factory, context) => factory.fallbackStage(context) },
  { name: 'total timeout', build: (factory, context) => factory.timeoutStage(context, 'total') },
  { name: 'retry', build: (factory, context) => factory.retryStage(context) },
  { name: 'hedge', build: (factory, context) => factory.hedgeStage(context) },
  { name: 'circuit breaker', build: (factory, context) => factory.circuitBreakerStage(context) },
  { name: 'rate limit', build: (factory, context) => factory.rateLimitStage(context) },
  { name: 'timeout', build: (factory, context) => factory.timeoutStage(context, 'attempt') },
  { name: 'bulkhead', build: (factory, context) => factory.bulkheadStage(context) },
  // Innermost, so that every real policy handles what it injects: only when the module's `chaos` says so.
  { name: 'chaos', build: (factory, context) => factory.chaosStage(context) },
];

/** `@Idempotent` on one handler, as the factory resolved it. */
export interface HandlerIdempotencySpec {
  readonly options: IdempotencyOptions;
  readonly leaseMs: number;
  readonly store: IdempotencyStore;
  /** Read per request: while it answers `false` the handler runs as if it had no `@Idempotent` (the testing kit). */
  readonly active?: () => boolean;
}

/**
 * Turns the metadata of the policy decorators into a method's pipeline: the policies in the canonical order, with
 * the precedence of options applied and validated. Every mistake surfaces here, at bootstrap, as a
 * {@link ResilienceConfigError}.
 */
@Injectable()
export class PipelineFactory {
  /** The `chaos` option, validated; experiments are built only when it is enabled. */
  private readonly chaos: ChaosOptions;
  /** `Class.method` of every pipeline built: the targets a chaos experiment may name. Bounded by the methods. */
  private readonly builtTargets = new Set<string>();

  constructor(
    @Inject(RESILIENCE_MODULE_OPTIONS) private readonly options: ResilienceModuleOptions,
    private readonly events: ResilienceEvents,
    private readonly registry: ResilienceRegistry,
    private readonly moduleRef: ModuleRef,
  ) {
    this.validateNamedConfigurations();
    // Read once, at bootstrap: an app started outside production cannot turn into one that injects in production.
    this.chaos = validateChaosOptions(options.chaos ?? { enabled: false }, process.env.NODE_ENV);
    registry.chaos.configure(this.chaos.seed, this.chaos.maxInjectionsPerMinute);
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
    const keys =
      site === 'provider' ? POLICY_METADATA_KEYS : POLICY_METADATA_KEYS.filter((key) => key !== RATE_LIMIT_METADATA);
    if (!keys.some((key) => Reflect.hasMetadata(key, method))) return undefined;
    const read: SpecReader = (key) => Reflect.getMetadata(key, method);
    const declaredAt = `${target.className}.${target.methodName}`;
    const policies = this.build({ read, method, prototype, declaredAt, site, receiverOf });
    // A dead-letter queue replays into this method, through the same policies, on the instance Nest holds.
    const classRef = (prototype as { constructor: new (...args: never[]) => unknown }).constructor;
    registerReplay(policies.all, method, target, () => this.moduleRef.get(classRef, { strict: false }));
    return policies;
  }

  /**
   * The policies of a pipeline built without decorators: `specs` maps the metadata keys of the decorators to what
   * they would have recorded. Same stages, precedence, validation and registry as a decorated provider method;
   * `declaredAt` names it in messages and is the name of its inline policies.
   */
  createFromSpecs(specs: ReadonlyMap<string, unknown>, declaredAt: string): readonly ResiliencePolicy[] {
    const read: SpecReader = (key) => specs.get(key);
    return this.build({ read, prototype: {}, declaredAt, site: 'provider', receiverOf: (call) => call.thisArg }).all;
  }

  /** Whether the module options have a configuration called `name` for the policy kind of `metadataKey`. */
  hasNamedConfiguration(metadataKey: string, name: string): boolean {
    const kind = KIND_OF_METADATA[metadataKey];
    return kind !== undefined && Object.hasOwn(namedConfigurations(this.options, kind), name);
  }

  /** Every named configuration, by the metadata key of its kind: for "did you mean" and messages. */
  namedConfigurationNames(): string[] {
    return [...new Set(CONFIGURABLE_KINDS.flatMap((kind) => Object.keys(namedConfigurations(this.options, kind))))];
  }

  /**
   * Refuses a chaos experiment that names no configuration and no decorated method (called once every method of
   * the application has its pipeline).
   * @internal
   */
  checkChaosExperiments(): void {
    const names = Object.keys(this.chaos.experiments ?? {});
    if (names.length === 0) return;
    checkChaosExperimentNames(names, this.namedConfigurationNames(), this.builtTargets);
  }

  private build(context: StageContext): ResolvedPolicies {
    // Service pipelines are built after bootstrap, some per call: not kept (their names are accepted unchecked).
    if (!context.declaredAt.startsWith('ResilienceService.')) this.builtTargets.add(context.declaredAt);
    const all: ResiliencePolicy[] = [];
    let withoutRetry: ResiliencePolicy[] | undefined;
    for (const stage of CANONICAL_ORDER) {
      const policies = stage.build(this, context);
      if (stage.name === 'retry' && policies.length > 0 && !this.retriesEveryRequest(context)) withoutRetry = [...all];
      all.push(...policies);
      if (stage.name !== 'retry') withoutRetry?.push(...policies);
    }
    const { targets } = this.registry;
    if (targets.enabled || (targets.has(context.declaredAt) && context.read(HEDGE_METADATA) !== undefined)) {
      // Outermost, decided here once: without metrics the pipeline has no measuring step at all, unless a hedge
      // reads this method's percentile (hedgeStage registered its target).
      const measure = new CallMetricsPolicy(targets.targetFor(context.declaredAt));
      all.unshift(measure);
      withoutRetry?.unshift(measure);
    }
    // Outermost of all: call-success and call-failure describe what the caller got. Listeners come and go at run
    // time, so the step is always there; it only reads a flag while nobody listens.
    // (Not for a handler whose `@Idempotent` runs alone: it has no pipeline.)
    if (all.length > 0) {
      const report = new CallEventsPolicy(context.declaredAt, this.events);
      all.unshift(report);
      withoutRetry?.unshift(report);
    }
    return { all, withoutRetry };
  }

  /** @internal Provider methods: `@Idempotent({ key })`; on handlers it runs before the policies (see below). */
  idempotentStage({ read, declaredAt, site }: StageContext): ResiliencePolicy[] {
    if (site !== 'provider') return [];
    const options = this.idempotencyOptions(read, declaredAt, 'provider');
    if (options === undefined) return [];
    if (options.key === undefined) {
      new OptionsValidator('idempotency', declaredAt, declaredAt).fail(
        'key',
        undefined,
        'is required on provider methods: a function of the arguments naming the operation, e.g. (event) => event.id',
      );
    }
    const keyFn = options.key as (...args: unknown[]) => unknown;
    return [
      new IdempotentPolicy(declaredAt, (invocation) => String(keyFn(...invocation.args)), this.idempotencyStore(), {
        ttl: options.ttl,
        lease: this.leaseOf(read, declaredAt, options),
        rememberErrors: options.rememberErrors,
        onStoreError: options.onStoreError,
      }),
    ];
  }

  /**
   * `@Idempotent` on a handler, validated, with its store and lease; `undefined` when the handler has none.
   * @internal
   */
  handlerIdempotency(method: object, target: PolicyTarget): HandlerIdempotencySpec | undefined {
    const declaredAt = `${target.className}.${target.methodName}`;
    const read: SpecReader = (key) => Reflect.getMetadata(key, method);
    const options = this.idempotencyOptions(read, declaredAt);
    if (options === undefined) return undefined;
    return { options, leaseMs: this.leaseOf(read, declaredAt, options), store: this.idempotencyStore() };
  }

  /** The application's idempotency store: the option, else the rate-limit store's (a `RedisStore`), else memory. */
  private idempotencyStore(): IdempotencyStore {
    const fromStore = (this.options.store as { idempotency?: IdempotencyStore } | undefined)?.idempotency;
    return (this.storeOfIdempotency ??= this.options.idempotencyStore ?? fromStore ?? new MemoryIdempotencyStore());
  }

  private storeOfIdempotency: IdempotencyStore | undefined;

  private idempotencyOptions(
    read: SpecReader,
    declaredAt: string,
    site: PolicySite = 'handler',
  ): IdempotencyOptions | undefined {
    const spec = read(IDEMPOTENT_METADATA) as PolicySpec<IdempotencyOptions> | undefined;
    if (spec === undefined) return undefined;
    const validator = new OptionsValidator('idempotency', declaredAt, declaredAt);
    const given = withoutUndefined(spec.options);
    // An option of the other site would silently do nothing: say so at bootstrap.
    for (const option of site === 'provider' ? HANDLER_ONLY_IDEMPOTENCY_OPTIONS : PROVIDER_ONLY_IDEMPOTENCY_OPTIONS) {
      if (!Object.hasOwn(given, option)) continue;
      validator.fail(
        option,
        given[option],
        site === 'provider'
          ? 'applies to HTTP handlers only; a provider method names its call with "key"'
          : 'applies to provider methods only; a handler reads its key from the Idempotency-Key header',
      );
    }
    return validateIdempotencyOptions({ ...DEFAULT_IDEMPOTENCY_OPTIONS, ...given }, validator);
  }

  /**
   * How long an in-flight record holds its key: the `lease` option, else shortly (1 s) after the method's own
   * deadline: `@Timeout`'s `total`, or its `duration` times the `@Retry` attempts plus their longest backoffs.
   */
  private leaseOf(read: SpecReader, declaredAt: string, options: IdempotencyOptions): number {
    if (options.lease !== undefined) return options.lease;
    const timeoutSpec = read(TIMEOUT_METADATA) as PolicySpec<TimeoutOptions> | undefined;
    if (timeoutSpec === undefined) return DEFAULT_IDEMPOTENCY_LEASE;
    const timeout = this.resolveOptions(TIMEOUT_KIND, timeoutSpec, declaredAt).options;
    if (timeout.total !== undefined) return timeout.total + 1000;
    const retrySpec = read(RETRY_METADATA) as PolicySpec<RetryOptions> | undefined;
    if (retrySpec === undefined) return timeout.duration + 1000;
    const retry = this.resolveOptions(RETRY_KIND, retrySpec, declaredAt).options;
    return Math.min(
      timeout.duration * retry.maxAttempts + retry.maxDelay * (retry.maxAttempts - 1) + 1000,
      2_147_483_647,
    );
  }

  /** @internal Outermost but idempotency: writes what the policies inside gave up on to the dead-letter queue. */
  deadLetterStage({ read, method, declaredAt, site }: StageContext): ResiliencePolicy[] {
    const spec = read(DEAD_LETTER_METADATA) as PolicySpec<DeadLetterOptions> | undefined;
    // Only decorated methods have dead letters (a ResilienceService pipeline has no message to store).
    if (spec === undefined || method === undefined) return [];
    const { events, registry } = this;
    const store = this.options.deadLetterStore;
    return [buildDeadLetterPolicy(spec, { method, declaredAt, site, events, registry, store })];
  }

  /** @internal */
  fallbackStage({ read, prototype, declaredAt, receiverOf, site }: StageContext): ResiliencePolicy[] {
    const spec = read(FALLBACK_METADATA) as FallbackSpec | undefined;
    return spec ? [this.fallbackPolicy(spec, prototype, declaredAt, receiverOf, site)] : [];
  }

  /** @internal The total budget (`total`), outside retry, or the per-attempt timeout (`duration`), inside it. */
  timeoutStage({ read, declaredAt }: StageContext, scope: 'total' | 'attempt'): ResiliencePolicy[] {
    const spec = read(TIMEOUT_METADATA) as PolicySpec<TimeoutOptions> | undefined;
    if (spec === undefined) return [];
    const { name, options } = this.resolveOptions(TIMEOUT_KIND, spec, declaredAt);
    if (scope === 'attempt') {
      // Validation resolved every adaptive option; each method follows its own downstream's latency.
      const adaptive = options.adaptive as ResolvedAdaptiveTimeoutOptions | undefined;
      const duration = adaptive && new AdaptiveDuration(options.duration, adaptive);
      return [new TimeoutPolicy(name, options.duration, 'attempt', this.events, duration)];
    }
    return options.total === undefined ? [] : [new TimeoutPolicy(name, options.total, 'total', this.events)];
  }

  /** @internal */
  retryStage({ read, declaredAt }: StageContext): ResiliencePolicy[] {
    const spec = read(RETRY_METADATA) as PolicySpec<RetryOptions> | undefined;
    if (spec === undefined) return [];
    const { name, options } = this.resolveOptions(RETRY_KIND, spec, declaredAt);
    return [new RetryPolicy(name, options, this.events, this.retryBudget(options.budget, name, declaredAt))];
  }

  /** @internal `@Hedge`, inside retry: each retry attempt may be hedged. */
  hedgeStage({ read, method, declaredAt, site }: StageContext): ResiliencePolicy[] {
    const spec = read(HEDGE_METADATA) as PolicySpec<HedgeOptions> | undefined;
    if (spec === undefined) return [];
    const validator = new OptionsValidator('hedge', declaredAt, declaredAt);
    const options = validateHedgeOptions({ ...DEFAULT_HEDGE_OPTIONS, ...withoutUndefined(spec.options) }, validator);
    if (site === 'handler' && method !== undefined && options.hedgeNonIdempotent !== true) {
      const requestMethod = Reflect.getMetadata('method', method) as RequestMethod | undefined;
      if (requestMethod !== undefined && NON_IDEMPOTENT.has(requestMethod)) {
        validator.fail(
          'hedgeNonIdempotent',
          options.hedgeNonIdempotent,
          `must be true to hedge a ${RequestMethod[requestMethod]} route: its requests would run twice`,
        );
      }
      if (isGraphQLMutation(method)) {
        validator.fail(
          'hedgeNonIdempotent',
          options.hedgeNonIdempotent,
          'must be true to hedge a GraphQL mutation: its operations would run twice',
        );
      }
    }
    // A percentile delay without a latencySource of the user's reads the method's own call metrics, measured for it
    // whether metrics are on or not (see build()).
    let latencySource = this.options.latencySource;
    if (typeof options.delay === 'object' && latencySource === undefined) {
      latencySource = new MetricsLatencySource(this.registry.targets.targetFor(declaredAt));
    }
    const retry = read(RETRY_METADATA) as PolicySpec<RetryOptions> | undefined;
    const budgetName = retry && this.resolveOptions(RETRY_KIND, retry, declaredAt).options.budget;
    const budget = budgetName === undefined ? undefined : this.registry.retryBudgets.get(budgetName);
    return [new HedgePolicy(declaredAt, options, this.events, budget, latencySource)];
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
  circuitBreakerStage({ read, declaredAt }: StageContext): ResiliencePolicy[] {
    const spec = read(CIRCUIT_BREAKER_METADATA) as PolicySpec<CircuitBreakerOptions> | undefined;
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
  rateLimitStage({ read, declaredAt, site }: StageContext): ResiliencePolicy[] {
    const specs = site === 'provider' ? rateLimitSpecsOf(read(RATE_LIMIT_METADATA)) : undefined;
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
      return new RateLimitPolicy(this.registry.rateLimitFor(name, options), invocationKey(options.key), this.events);
    });
  }

  /** @internal */
  bulkheadStage({ read, declaredAt }: StageContext): ResiliencePolicy[] {
    const spec = read(BULKHEAD_METADATA) as PolicySpec<BulkheadOptions> | undefined;
    if (spec === undefined) return [];
    const { name, options } = this.resolveOptions(BULKHEAD_KIND, spec, declaredAt);
    const bulkhead = this.registry.bulkheadFor(name, options);
    return [bulkhead.adaptive ? new AdaptiveBulkheadPolicy(bulkhead) : new BulkheadPolicy(bulkhead)];
  }

  /**
   * @internal The chaos experiment of a method, when the module enables chaos: the target's own entry
   * (`Class.method`), else the first configuration its policies name that has one (in the canonical order).
   */
  chaosStage({ read, declaredAt }: StageContext): ResiliencePolicy[] {
    const experiments = this.chaos.experiments ?? {};
    if (!this.chaos.enabled) return [];
    const candidates = [declaredAt, ...configurationNamesOf(read)];
    const name = candidates.find((candidate) => Object.hasOwn(experiments, candidate));
    if (name === undefined) return [];
    return [new ChaosPolicy(this.registry.chaosFor(name, experiments[name]), this.events)];
  }

  /** Whether a handler retries requests that must not be repeated (POST, mutations): `retryNonIdempotent`. */
  private retriesEveryRequest({ read, declaredAt, site }: StageContext): boolean {
    if (site === 'provider') return true;
    const spec = read(RETRY_METADATA) as PolicySpec<RetryOptions>;
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
    site: PolicySite,
  ): FallbackPolicy {
    const { events, registry } = this;
    const store = this.options.lastKnownGoodStore;
    return buildFallbackPolicy(spec, { prototype, declaredAt, site, receiverOf, events, registry, store });
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

/** `@Idempotent` options that only mean something on HTTP handlers. */
const HANDLER_ONLY_IDEMPOTENCY_OPTIONS = [
  'methods',
  'required',
  'scope',
  'fingerprint',
  'onInFlight',
  'replay',
] as const;
/** `@Idempotent` options that only mean something on provider methods. */
const PROVIDER_ONLY_IDEMPOTENCY_OPTIONS = ['key', 'rememberErrors'] as const;

/**
 * The name of an inline `@RateLimit`: `Class.method`, or `Class.method#1`, `#2` ... in source order when the method
 * has several (each is its own limit with its own buckets).
 */
function inlineRateLimitName(declaredAt: string, index: number, count: number): string {
  return count === 1 ? declaredAt : `${declaredAt}#${index + 1}`;
}

/** The `@RateLimit` specs recorded on a method or class (one per decorator), or `undefined` when there are none. */
function readRateLimitSpecs(target: object): readonly PolicySpec<RateLimitOptions>[] | undefined {
  return rateLimitSpecsOf(Reflect.getMetadata(RATE_LIMIT_METADATA, target));
}

function rateLimitSpecsOf(recorded: unknown): readonly PolicySpec<RateLimitOptions>[] | undefined {
  const specs = recorded as readonly PolicySpec<RateLimitOptions>[] | undefined;
  return specs !== undefined && specs.length > 0 ? specs : undefined;
}

/** The configuration names a method's policies refer to, in the canonical order. */
function configurationNamesOf(read: SpecReader): string[] {
  const names: string[] = [];
  for (const key of [
    TIMEOUT_METADATA,
    RETRY_METADATA,
    CIRCUIT_BREAKER_METADATA,
    RATE_LIMIT_METADATA,
    BULKHEAD_METADATA,
  ]) {
    const recorded = read(key) as PolicySpec<object> | readonly PolicySpec<object>[] | undefined;
    for (const spec of Array.isArray(recorded) ? recorded : recorded === undefined ? [] : [recorded]) {
      if ((spec as PolicySpec<object>).name !== undefined) names.push((spec as PolicySpec<object>).name!);
    }
  }
  return names;
}

/** The bucket key of a provider call: one shared bucket, or the key function applied to the call's arguments. */
function invocationKey(key: RateLimitKey | undefined): (invocation: Invocation) => string {
  if (typeof key !== 'function') return () => 'global';
  const keyFn = key as (...args: unknown[]) => unknown;
  return (invocation) => String(keyFn(...invocation.args));
}
