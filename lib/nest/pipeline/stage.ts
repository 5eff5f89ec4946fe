import type { ResilienceEvents } from '../../core/events/resilience-events.js';
import type { Invocation } from '../../core/pipeline/invocation.js';
import type { ResiliencePolicy } from '../../core/pipeline/policy.interface.js';
import type { ResilienceRegistry } from '../../core/registry/resilience-registry.js';
import type { OptionsValidator } from '../../core/validation/options.validator.js';
import type { PolicySpec } from '../../decorators/resilience.metadata.js';
import type { ResilienceModuleBaseOptions } from '../options/resilience-module.options.js';

/** What every policy kind says about itself: the words of messages and where its decorator records its spec. */
export interface PolicyKind {
  /** Word used in messages, e.g. `retry`. */
  readonly label: string;
  /** The decorator, e.g. `@Retry`; none for chaos, which the module options alone switch on. */
  readonly decorator?: string;
  /** The metadata key its decorator records its spec under (`resilience.metadata.ts`). */
  readonly metadataKey?: string;
}

/**
 * A kind the module options configure: named configurations (`retries.gateway`), module-wide defaults
 * (`defaults.retry`), and an option of `ResilienceService` pipelines (`retry`).
 */
export interface ConfigurableKind<
  TOptions extends object = object,
  TConfigKey extends string = string,
  TDefaultsKey extends string = string,
> extends PolicyKind {
  readonly decorator: string;
  readonly metadataKey: string;
  /** Key of the named configurations in the module options, e.g. `retries`. */
  readonly configKey: TConfigKey;
  /** Key of the module-wide defaults, and of the `ResilienceService` pipeline option, e.g. `retry`. */
  readonly defaultsKey: TDefaultsKey;
  /** Library defaults. */
  readonly libraryDefaults: TOptions;
  /** The options normalized (numeric strings as numbers); throws a configuration error naming a bad option. */
  readonly validate: (options: TOptions, validator: OptionsValidator) => TOptions;
  /** One configuration, for the messages of the module options' validator, e.g. `{ maxAttempts: 3 }`. */
  readonly example: string;
  /** Whether the policy keeps named state in the registry (a pipeline's inline options then need a name). */
  readonly stateful: boolean;
  /** Whether the decorator records a list of specs (several `@RateLimit`s on one method). */
  readonly several?: boolean;
}

/** Whether a kind has named configurations and module defaults. */
export function isConfigurable(kind: PolicyKind): kind is ConfigurableKind {
  return (kind as Partial<ConfigurableKind>).configKey !== undefined;
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
export interface StageContext {
  readonly read: SpecReader;
  /** The decorated method, when there is one (not for a `ResilienceService` pipeline). */
  readonly method?: object;
  readonly prototype: object;
  readonly declaredAt: string;
  readonly site: PolicySite;
  readonly receiverOf: ReceiverOf;
}

/** What the pipeline factory gives the stages: the application's options, events and registry, and precedence. */
export interface StageHost {
  readonly options: ResilienceModuleBaseOptions;
  readonly events: ResilienceEvents;
  readonly registry: ResilienceRegistry;
  /** Merges library defaults < module defaults < inline options < named configuration, then validates. */
  resolve<TOptions extends object>(
    kind: ConfigurableKind<TOptions>,
    spec: PolicySpec<TOptions>,
    declaredAt: string,
    inlineName?: string,
  ): { name: string; options: TOptions };
  /** The configuration names a method's specs refer to, in the canonical order (`@Retry('gateway')`: gateway). */
  configurationNames(read: SpecReader): string[];
  /** The names of `kind`'s configurations in the module options (`rateLimits`: its keys). */
  configurationNamesOf<TOptions extends object>(kind: ConfigurableKind<TOptions>): string[];
  /** Something a stage keeps once per application (a store, validated options), created on first use. */
  once<T>(owner: object, create: () => T): T;
}

/** One stage of the canonical order: the policies it contributes for a method (none when not decorated). */
export interface Stage {
  /** The stage's name, as in the docs' order diagram. */
  readonly name: string;
  readonly kind: PolicyKind;
  /** Checks and creates what the module options declare for this kind, at bootstrap (used or not). */
  readonly setUp?: (host: StageHost) => void;
  readonly build: (context: StageContext, host: StageHost) => readonly ResiliencePolicy[];
  /**
   * Whether a request that must not run twice (a POST, a mutation) leaves this stage's policies out, because they
   * would run it again (the pipeline's `withoutRetry`).
   */
  readonly omitWhenUnrepeatable?: (context: StageContext, host: StageHost) => boolean;
  /** Whether the method's calls are measured although call metrics are off (a hedge reads its own percentiles). */
  readonly measuresCalls?: (context: StageContext, host: StageHost) => boolean;
}

/** The policies of one decorated method, in the canonical order (outermost first). */
export interface ResolvedPolicies {
  /** Every policy the method's decorators ask for. */
  readonly all: readonly ResiliencePolicy[];
  /** The same without retry, for requests that must not be repeated; `undefined` when they may be retried too. */
  readonly withoutRetry: readonly ResiliencePolicy[] | undefined;
}
