import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ResilienceConfigError } from '../../core/errors/resilience-config.error.js';
import type { PolicyTarget } from '../../core/events/resilience-event.interface.js';
import { ResilienceEvents } from '../../core/events/resilience-events.js';
import type { CircuitBreakerOptions } from '../../core/circuit-breaker/circuit-breaker.options.js';
import { CallMetricsPolicy } from '../../core/metrics/call-metrics.policy.js';
import { CallEventsPolicy } from '../../core/events/call-events.policy.js';
import type { ResiliencePolicy } from '../../core/pipeline/policy.interface.js';
import { ResilienceRegistry } from '../../core/registry/resilience-registry.js';
import { closestName } from '../../core/validation/did-you-mean.js';
import { OptionsValidator } from '../../core/validation/options.validator.js';
import { withoutUndefined } from '../../core/validation/without-undefined.js';
import type { PolicySpec } from '../../decorators/resilience.metadata.js';
import type { ResilienceModuleBaseOptions } from '../options/resilience-module.options.js';
import { RESILIENCE_MODULE_OPTIONS } from '../options/resilience-module.token.js';
import { CANONICAL_ORDER, CONFIGURABLE_KINDS, KIND_OF_METADATA, POLICY_METADATA_KEYS } from './canonical-order.js';
import { ClassNames } from './class-names.js';
import type {
  ConfigurableKind,
  PolicySite,
  ReceiverOf,
  ResolvedPolicies,
  SpecReader,
  StageContext,
  StageHost,
} from './stage.js';
import { registerReplay } from './stages/dead-letter.stage.js';
import { checkChaosExperiments } from './stages/chaos.stage.js';
import { CIRCUIT_BREAKER_KIND, requireCoordinator } from './stages/circuit-breaker.stage.js';
import { handlerIdempotency, type HandlerIdempotencySpec } from './stages/idempotent.stage.js';
import { RATE_LIMIT_KIND, globalRateLimitNames, handlerRateLimits } from './stages/rate-limit.stage.js';

/** The metadata keys of a handler's pipeline: on handlers `@RateLimit` alone is the guard's business. */
const HANDLER_METADATA_KEYS = POLICY_METADATA_KEYS.filter((key) => key !== RATE_LIMIT_KIND.metadataKey);

/**
 * Turns the metadata of the policy decorators into a method's pipeline: it reads the specs, runs the stages of the
 * canonical order (`canonical-order.ts`; each kind's knowledge lives in its stage) and applies the precedence of
 * options. Every mistake surfaces here, at bootstrap, as a {@link ResilienceConfigError}.
 */
@Injectable()
export class PipelineFactory implements StageHost {
  /** What the stages keep once per application (a store, validated options). */
  private readonly kept = new Map<object, unknown>();
  /** `Class.method` of every pipeline built: the targets a chaos experiment may name. Bounded by the methods. */
  private readonly builtTargets = new Set<string>();
  /** What this application's classes are called in every name built from them (same-named classes told apart). */
  readonly classNames = new ClassNames();

  constructor(
    @Inject(RESILIENCE_MODULE_OPTIONS) readonly options: ResilienceModuleBaseOptions,
    readonly events: ResilienceEvents,
    readonly registry: ResilienceRegistry,
    private readonly moduleRef: ModuleRef,
  ) {
    this.validateNamedConfigurations();
    for (const stage of CANONICAL_ORDER) if ('setUp' in stage) stage.setUp(this);
  }

  /** The target `classRef.methodName` names in policies, records, limits, metrics and events. */
  targetOf(classRef: abstract new (...args: never[]) => unknown, methodName: string): PolicyTarget {
    return { className: this.classNames.nameOf(classRef), methodName };
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
    const keys = site === 'provider' ? POLICY_METADATA_KEYS : HANDLER_METADATA_KEYS;
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

  /**
   * The limits of a handler: its own `@RateLimit`s (which a class-level `@SkipRateLimit()` does not remove), else
   * its class's unless either is marked `@SkipRateLimit()`. `undefined` when it has none.
   */
  rateLimits(handler: object, classRef: object, target: PolicyTarget): ReturnType<typeof handlerRateLimits> {
    return handlerRateLimits(this, handler, classRef, target);
  }

  /** The module option `globalRateLimits`: names of `rateLimits` configurations applied to every handler. */
  get globalRateLimitNames(): readonly string[] {
    return globalRateLimitNames(this);
  }

  /**
   * `@Idempotent` on a handler, validated, with its store and lease; `undefined` when the handler has none.
   * @internal
   */
  handlerIdempotency(method: object, target: PolicyTarget): HandlerIdempotencySpec | undefined {
    return handlerIdempotency(this, method, target);
  }

  /** Whether the module options have a configuration called `name` for the policy kind of `metadataKey`. */
  hasNamedConfiguration(metadataKey: string, name: string): boolean {
    const kind = KIND_OF_METADATA.get(metadataKey);
    return kind !== undefined && Object.hasOwn(this.namedConfigurations(kind), name);
  }

  /** Every named configuration, by the metadata key of its kind: for "did you mean" and messages. */
  namedConfigurationNames(): string[] {
    return [...new Set(CONFIGURABLE_KINDS.flatMap((kind) => Object.keys(this.namedConfigurations(kind))))];
  }

  /** @internal The configuration names a method's specs refer to, in the canonical order. */
  configurationNames(read: SpecReader): string[] {
    const names: string[] = [];
    for (const { metadataKey } of CONFIGURABLE_KINDS) {
      const recorded = read(metadataKey) as PolicySpec<object> | readonly PolicySpec<object>[] | undefined;
      for (const spec of Array.isArray(recorded) ? recorded : recorded === undefined ? [] : [recorded]) {
        if ((spec as PolicySpec<object>).name !== undefined) names.push((spec as PolicySpec<object>).name!);
      }
    }
    return names;
  }

  /** @internal The names of `kind`'s configurations in the module options (`rateLimits`: its keys). */
  configurationNamesOf<TOptions extends object>(kind: ConfigurableKind<TOptions>): string[] {
    return Object.keys(this.namedConfigurations(kind));
  }

  /** @internal */
  once<T>(owner: object, create: () => T): T {
    if (!this.kept.has(owner)) this.kept.set(owner, create());
    return this.kept.get(owner) as T;
  }

  /**
   * Refuses a chaos experiment that names no configuration and no decorated method (called once every method of
   * the application has its pipeline).
   * @internal
   */
  checkChaosExperiments(): void {
    checkChaosExperiments(this, this.namedConfigurationNames(), this.builtTargets);
  }

  private build(context: StageContext): ResolvedPolicies {
    // Service pipelines are built after bootstrap, some per call: not kept (their names are accepted unchecked).
    if (!context.declaredAt.startsWith('ResilienceService.')) this.builtTargets.add(context.declaredAt);
    const all: ResiliencePolicy[] = [];
    let withoutRetry: ResiliencePolicy[] | undefined;
    for (const stage of CANONICAL_ORDER) {
      const policies = stage.build(context, this);
      const omitted =
        policies.length > 0 && 'omitWhenUnrepeatable' in stage && stage.omitWhenUnrepeatable(context, this);
      if (omitted) withoutRetry ??= [...all];
      all.push(...policies);
      if (!omitted) withoutRetry?.push(...policies);
    }
    const measured =
      this.registry.targets.enabled ||
      CANONICAL_ORDER.some((stage) => 'measuresCalls' in stage && stage.measuresCalls(context, this));
    if (measured) {
      // Outermost, decided here once: without metrics the pipeline has no measuring step at all, unless a stage
      // measures this method for itself (a hedge reading its own percentile).
      const measure = new CallMetricsPolicy(this.registry.targets.targetFor(context.declaredAt));
      all.unshift(measure);
      withoutRetry?.unshift(measure);
    }
    // Outermost of all: call-success and call-failure describe what the caller got. Listeners come and go at run
    // time, so the step is always there; it only reads a flag while nobody listens. (Not for a handler whose
    // `@Idempotent` runs alone: it has no pipeline.)
    if (all.length > 0) {
      const report = new CallEventsPolicy(context.declaredAt, this.events);
      all.unshift(report);
      withoutRetry?.unshift(report);
    }
    return { all, withoutRetry };
  }

  /** @internal Merges library defaults < module defaults < inline options < named configuration, then validates. */
  resolve<TOptions extends object>(
    kind: ConfigurableKind<TOptions>,
    spec: PolicySpec<TOptions>,
    declaredAt: string,
    inlineName = declaredAt,
  ): { name: string; options: TOptions } {
    const name = spec.name ?? inlineName;
    let named: Partial<TOptions> = {};
    if (spec.name !== undefined) {
      const configurations = this.namedConfigurations(kind);
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
      ...this.moduleDefaults(kind),
      ...withoutUndefined(spec.options),
      ...withoutUndefined(named),
    };
    return { name, options: kind.validate(options, new OptionsValidator(kind.label, name, declaredAt)) };
  }

  /** The named configurations of `kind` in the module options. */
  private namedConfigurations<TOptions extends object>(
    kind: ConfigurableKind<TOptions>,
  ): Record<string, Partial<TOptions>> {
    const options = this.options as Record<string, unknown>;
    return (options[kind.configKey] ?? {}) as Record<string, Partial<TOptions>>;
  }

  /** The module-wide defaults of `kind`. */
  private moduleDefaults<TOptions extends object>(kind: ConfigurableKind<TOptions>): Partial<TOptions> {
    // The defaults' keys are derived from the order (`ResiliencePolicyDefaults`); the factory reads them by kind.
    const { defaults = {} } = this.options as { defaults?: Record<string, Partial<TOptions> | undefined> };
    return defaults[kind.defaultsKey] ?? {};
  }

  /** Named configurations are checked even when no decorator uses them yet: a typo should not wait for a deploy. */
  private validateNamedConfigurations(): void {
    for (const kind of CONFIGURABLE_KINDS) {
      for (const [name, named] of Object.entries(this.namedConfigurations(kind))) {
        const options = { ...kind.libraryDefaults, ...this.moduleDefaults(kind), ...withoutUndefined(named) };
        const validator = new OptionsValidator(kind.label, name, `ResilienceModule options "${kind.configKey}"`);
        const normalized = kind.validate(options, validator);
        // A rule that needs the application, not only the options: a configuration no method uses yet is checked too.
        if ((kind as unknown) === CIRCUIT_BREAKER_KIND) {
          requireCoordinator(normalized as CircuitBreakerOptions, this.registry.coordinator !== undefined, validator);
        }
      }
    }
  }
}
