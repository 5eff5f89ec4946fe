import type { PolicyTarget } from '../../../core/events/resilience-event.interface.js';
import type { Invocation } from '../../../core/pipeline/invocation.js';
import {
  DEFAULT_RATE_LIMIT_OPTIONS,
  validateRateLimitOptions,
  type RateLimitKey,
  type RateLimitOptions,
} from '../../../core/rate-limit/rate-limit.options.js';
import { RateLimitPolicy } from '../../../core/rate-limit/rate-limit.policy.js';
import { OptionsValidator } from '../../../core/validation/options.validator.js';
import {
  RATE_LIMIT_METADATA,
  SKIP_RATE_LIMIT_METADATA,
  type HandlerRateLimitKey,
  type PolicySpec,
} from '../../../decorators/resilience.metadata.js';
import type { HandlerRateLimit } from '../../handlers/handler-rate-limits.js';
import type { ConfigurableKind, Stage, StageHost } from '../stage.js';

/** `@RateLimit`: `rateLimits.<name>`, `defaults.rateLimit`; every method naming one shares its buckets. */
export const RATE_LIMIT_KIND: ConfigurableKind<RateLimitOptions, 'rateLimits', 'rateLimit'> = {
  label: 'rate limit',
  decorator: '@RateLimit',
  metadataKey: RATE_LIMIT_METADATA,
  configKey: 'rateLimits',
  defaultsKey: 'rateLimit',
  libraryDefaults: DEFAULT_RATE_LIMIT_OPTIONS,
  validate: validateRateLimitOptions,
  example: '{ limit: 100, interval: 60_000 }',
  stateful: true,
  several: true,
};

/** Provider methods only: on handlers the rate-limit guard applies the limits (see `handlerRateLimits`), first. */
export const RATE_LIMIT_STAGE = {
  name: 'rate limit',
  kind: RATE_LIMIT_KIND,
  build: ({ read, declaredAt, site }, host) => {
    const specs = site === 'provider' ? rateLimitSpecsOf(read(RATE_LIMIT_METADATA)) : undefined;
    // Several limits ("3 per second and 100 per minute"): each call spends from every one.
    return (specs ?? []).map((spec, index) => {
      const inlineName = inlineRateLimitName(declaredAt, index, specs!.length);
      const { name, options } = host.resolve(RATE_LIMIT_KIND, spec, declaredAt, inlineName);
      if (options.key === 'ip') {
        new OptionsValidator('rate limit', name, declaredAt).fail(
          'key',
          'ip',
          'applies to handlers only (HTTP, GraphQL, WebSocket)',
        );
      }
      return new RateLimitPolicy(host.registry.rateLimitFor(name, options), invocationKey(options.key), host.events);
    });
  },
} as const satisfies Stage;

/**
 * The limits of a handler: its own `@RateLimit`s (which a class-level `@SkipRateLimit()` does not remove), else
 * its class's unless either is marked `@SkipRateLimit()`. `undefined` when it has none.
 */
export function handlerRateLimits(
  host: StageHost,
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
    const { name, options } = host.resolve(RATE_LIMIT_KIND, spec, declaredAt, inlineName);
    return { limiter: host.registry.rateLimitFor(name, options), key: (options.key ?? 'ip') as HandlerRateLimitKey };
  });
  return { limits, declaredOnHandler: own !== undefined };
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
  return rateLimitSpecsOf(Reflect.getMetadata(RATE_LIMIT_METADATA, target));
}

function rateLimitSpecsOf(recorded: unknown): readonly PolicySpec<RateLimitOptions>[] | undefined {
  const specs = recorded as readonly PolicySpec<RateLimitOptions>[] | undefined;
  return specs !== undefined && specs.length > 0 ? specs : undefined;
}

/** The bucket key of a provider call: one shared bucket, or the key function applied to the call's arguments. */
function invocationKey(key: RateLimitKey | undefined): (invocation: Invocation) => string {
  if (typeof key !== 'function') return () => 'global';
  const keyFn = key as (...args: unknown[]) => unknown;
  return (invocation) => String(keyFn(...invocation.args));
}
