import { Inject, Injectable } from '@nestjs/common';
import type { CircuitBreakerOptions } from '../core/circuit-breaker/circuit-breaker-options.js';
import { CircuitBreakerPolicy } from '../core/circuit-breaker/circuit-breaker.policy.js';
import { ResilienceConfigError } from '../core/errors/resilience-config.error.js';
import { ResilienceEvents } from '../core/events/resilience-events.js';
import { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import type { PolicyTarget } from '../core/events/resilience-event.interface.js';
import type { FallbackHandler } from '../core/fallback/fallback.policy.js';
import { FallbackPolicy } from '../core/fallback/fallback.policy.js';
import type { ResiliencePolicy } from '../core/pipeline/policy.interface.js';
import type { RetryOptions } from '../core/retry/retry-options.js';
import { RetryPolicy } from '../core/retry/retry.policy.js';
import type { TimeoutOptions } from '../core/timeout/timeout-options.js';
import { TimeoutPolicy } from '../core/timeout/timeout.policy.js';
import { OptionsValidator } from '../core/validation/options-validator.js';
import type { FallbackSpec } from '../decorators/fallback.decorator.js';
import {
  CIRCUIT_BREAKER_KIND,
  CONFIGURABLE_KINDS,
  moduleDefaults,
  namedConfigurations,
  RETRY_KIND,
  TIMEOUT_KIND,
  type PolicyKind,
} from './policy-kinds.js';
import type { PolicySpec } from './policy-spec.interface.js';
import {
  CIRCUIT_BREAKER_METADATA,
  FALLBACK_METADATA,
  RETRY_METADATA,
  TIMEOUT_METADATA,
} from './resilience.constants.js';
import { RESILIENCE_MODULE_OPTIONS } from './resilience.module-definition.js';
import type { ResilienceModuleOptions } from './resilience-module-options.interface.js';

/** The policies of one decorated method, in the canonical order (outermost first). */
export interface ResolvedPolicies {
  /** Every policy the method's decorators ask for. */
  readonly all: readonly ResiliencePolicy[];
  /** The same without retry, for non-idempotent HTTP requests; `undefined` when they may be retried too. */
  readonly withoutRetry: readonly ResiliencePolicy[] | undefined;
}

/**
 * Turns the metadata of the policy decorators into policy instances, applying the precedence of options and
 * validating them. Every mistake surfaces here, at bootstrap, as a {@link ResilienceConfigError}.
 */
@Injectable()
export class PolicyResolver {
  constructor(
    @Inject(RESILIENCE_MODULE_OPTIONS) private readonly options: ResilienceModuleOptions,
    private readonly events: ResilienceEvents,
    private readonly registry: ResilienceRegistry,
  ) {
    this.validateNamedConfigurations();
  }

  /** The policies for `method`, or `undefined` when it carries no policy decorator. */
  resolve(method: object, prototype: object, target: PolicyTarget): ResolvedPolicies | undefined {
    const timeoutSpec = readSpec<PolicySpec<TimeoutOptions>>(TIMEOUT_METADATA, method);
    const retrySpec = readSpec<PolicySpec<RetryOptions>>(RETRY_METADATA, method);
    const breakerSpec = readSpec<PolicySpec<CircuitBreakerOptions>>(CIRCUIT_BREAKER_METADATA, method);
    const fallbackSpec = readSpec<FallbackSpec>(FALLBACK_METADATA, method);
    if (!timeoutSpec && !retrySpec && !breakerSpec && !fallbackSpec) return undefined;

    const declaredAt = `${target.className}.${target.methodName}`;
    const outer: ResiliencePolicy[] = [];
    const inner: ResiliencePolicy[] = [];
    let retry: RetryPolicy | undefined;
    let retryNonIdempotent = false;

    if (fallbackSpec) outer.push(this.fallbackPolicy(fallbackSpec, prototype, declaredAt));
    if (breakerSpec) {
      // Inside retry: an open circuit fails fast and that rejection is not retried.
      const { name, options } = this.resolveOptions(CIRCUIT_BREAKER_KIND, breakerSpec, declaredAt);
      inner.push(new CircuitBreakerPolicy(this.registry.circuitFor(name, options)));
    }
    if (timeoutSpec) {
      const { name, options } = this.resolveOptions(TIMEOUT_KIND, timeoutSpec, declaredAt);
      // The total budget sits outside retry so that it spans every attempt and backoff wait.
      if (options.total !== undefined) outer.push(new TimeoutPolicy(name, options.total, 'total', this.events));
      inner.push(new TimeoutPolicy(name, options.duration, 'attempt', this.events));
    }
    if (retrySpec) {
      const { name, options } = this.resolveOptions(RETRY_KIND, retrySpec, declaredAt);
      retry = new RetryPolicy(name, options, this.events);
      retryNonIdempotent = options.retryNonIdempotent === true;
    }
    const all = retry ? [...outer, retry, ...inner] : [...outer, ...inner];
    return { all, withoutRetry: retry && !retryNonIdempotent ? [...outer, ...inner] : undefined };
  }

  /** Merges library defaults < module defaults < inline options < named configuration, then validates. */
  private resolveOptions<TOptions extends object>(
    kind: PolicyKind<TOptions>,
    spec: PolicySpec<TOptions>,
    declaredAt: string,
  ): { name: string; options: TOptions } {
    const name = spec.name ?? declaredAt;
    let named: Partial<TOptions> = {};
    if (spec.name !== undefined) {
      const configurations = namedConfigurations(this.options, kind);
      if (!Object.hasOwn(configurations, spec.name)) {
        const known = Object.keys(configurations);
        throw new ResilienceConfigError(
          `${kind.decorator}('${spec.name}') on ${declaredAt} names a ${kind.label} configuration that does not exist: ` +
            `ResilienceModule options "${kind.configKey}" has ${known.length ? known.map((key) => `"${key}"`).join(', ') : 'none'}`,
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
    kind.validate(options, new OptionsValidator(kind.label, name, declaredAt));
    return { name, options };
  }

  private fallbackPolicy(spec: FallbackSpec, prototype: object, declaredAt: string): FallbackPolicy {
    const validator = new OptionsValidator('fallback', declaredAt, declaredAt);
    validator.optionalFunction('when', spec.when);
    return new FallbackPolicy(declaredAt, this.fallbackHandler(spec, prototype, validator), spec.when, this.events);
  }

  private fallbackHandler(spec: FallbackSpec, prototype: object, validator: OptionsValidator): FallbackHandler {
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
    return (error, invocation) =>
      (invocation.thisArg as Record<string, (...args: unknown[]) => unknown>)[methodName](error, ...invocation.args);
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

function readSpec<T>(key: string, method: object): T | undefined {
  return Reflect.getMetadata(key, method) as T | undefined;
}

/** Drops `undefined` fields so that `{ maxAttempts: undefined }` does not erase a default. */
function withoutUndefined<T extends object>(options: T | undefined): Partial<T> {
  if (!options) return {};
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
