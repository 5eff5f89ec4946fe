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
import { keyFrom } from '../../../core/validation/key-data.js';
import {
  RATE_LIMIT_METADATA,
  SKIP_RATE_LIMIT_METADATA,
  type HandlerRateLimitKey,
  type PolicySpec,
  type SkippedRateLimits,
} from '../../../decorators/resilience.metadata.js';
import type { RateLimitState } from '../../../core/rate-limit/rate-limit.state.js';
import { ResilienceConfigError } from '../../../core/errors/resilience-config.error.js';
import { closestName } from '../../../core/validation/did-you-mean.js';
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

/** One limit of a handler, applied by the rate-limit guard: whose bucket a request spends from. */
export interface HandlerRateLimit {
  readonly limiter: RateLimitState;
  readonly key: HandlerRateLimitKey;
}

/** Provider methods only: on handlers the rate-limit guard applies the limits (see `handlerRateLimits`), first. */
export const RATE_LIMIT_STAGE = {
  name: 'rate limit',
  kind: RATE_LIMIT_KIND,
  build: ({ read, declaredAt, site }, host) => {
    const specs = site === 'provider' ? rateLimitSpecsOf(read(RATE_LIMIT_METADATA)) : undefined;
    // Several limits ("3 per second and 100 per minute"): one policy, a call spends from each only when all admit.
    const limits = (specs ?? []).map((spec, index) => {
      const inlineName = inlineRateLimitName(declaredAt, index, specs!.length);
      const { name, options } = host.resolve(RATE_LIMIT_KIND, spec, declaredAt, inlineName);
      const validator = new OptionsValidator('rate limit', name, declaredAt);
      if (options.key === 'ip') validator.fail('key', 'ip', 'applies to handlers only (HTTP, GraphQL, WebSocket)');
      for (const option of HANDLER_ONLY_RATE_LIMIT_OPTIONS) {
        const value = options[option];
        if (option === 'ipv6Prefix' ? spec.options?.ipv6Prefix === undefined : typeof value !== 'function') continue;
        validator.fail(option, value, 'is computed from the request: it applies to handlers only');
      }
      return { limiter: host.registry.rateLimitFor(name, options), keyOf: invocationKey(options.key, name) };
    });
    if (limits.length === 0) return [];
    const [first, ...more] = limits;
    return [new RateLimitPolicy(first.limiter, first.keyOf, more, host.events)];
  },
} as const satisfies Stage;

/**
 * The limits of a handler: its own `@RateLimit`s, else its class's unless either is marked `@SkipRateLimit()`, then
 * the module's `globalRateLimits`; `@SkipRateLimit('name')` on the handler or class removes inherited limits of that
 * name (a handler's own always apply). `undefined` when it has none. `appliedBy` says which guard applies them: the
 * handler's own guard, its class's, or (for handlers with no limit of their own) the global guard.
 */
export function handlerRateLimits(
  host: StageHost,
  handler: object,
  classRef: object,
  target: PolicyTarget,
): { limits: HandlerRateLimit[]; appliedBy: 'handler' | 'class' | 'global' } | undefined {
  const declaredAt = `${target.className}.${target.methodName}`;
  const skips = [skippedRateLimits(handler), skippedRateLimits(classRef)];
  const skipsAll = skips.includes(true);
  const skippedNames = new Set(
    skips.flatMap((skip): readonly string[] => (skip === true || skip === undefined ? [] : skip)),
  );
  for (const name of skippedNames) checkRateLimitName(host, name, `@SkipRateLimit('${name}') on ${declaredAt}`);
  const own = readRateLimitSpecs(handler);
  const inherited = skipsAll ? undefined : readRateLimitSpecs(classRef);
  const declared = own ?? inherited?.filter((spec) => spec.name === undefined || !skippedNames.has(spec.name));
  const limits = (declared ?? []).map((spec, index) => {
    const inlineName = inlineRateLimitName(declaredAt, index, declared!.length);
    const { name, options } = host.resolve(RATE_LIMIT_KIND, spec, declaredAt, inlineName);
    return { limiter: host.registry.rateLimitFor(name, options), key: (options.key ?? 'ip') as HandlerRateLimitKey };
  });
  const global = skipsAll ? [] : globalRateLimitNames(host).filter((name) => !skippedNames.has(name));
  for (const name of global) {
    if (limits.some((limit) => limit.limiter.name === name)) continue; // declared on the handler too: once
    const { options } = host.resolve(RATE_LIMIT_KIND, { name }, declaredAt);
    limits.push({
      limiter: host.registry.rateLimitFor(name, options),
      key: (options.key ?? 'ip') as HandlerRateLimitKey,
    });
  }
  if (limits.length === 0) return undefined;
  return { limits, appliedBy: own !== undefined ? 'handler' : inherited !== undefined ? 'class' : 'global' };
}

/** The module option `globalRateLimits`: names of `rateLimits` configurations applied to every handler. */
export function globalRateLimitNames(host: Pick<StageHost, 'options'>): readonly string[] {
  return host.options.globalRateLimits ?? [];
}

/** Fails when no `rateLimits` configuration is called `name`, with "did you mean". */
function checkRateLimitName(host: StageHost, name: string, where: string): void {
  const known = host.configurationNamesOf(RATE_LIMIT_KIND);
  if (known.includes(name)) return;
  const closest = closestName(name, known);
  throw new ResilienceConfigError(
    `${where} names a rate limit configuration that does not exist` +
      (closest === undefined ? '' : ` (did you mean '${closest}'?)`) +
      `: ResilienceModule options "rateLimits" has ` +
      (known.length ? known.map((key) => `"${key}"`).join(', ') : 'none'),
    name,
  );
}

/** `@RateLimit` options of handlers only, as functions of the request (and the IPv6 grouping of `key: 'ip'`). */
const HANDLER_ONLY_RATE_LIMIT_OPTIONS = ['limit', 'interval', 'message', 'skipIf', 'ipv6Prefix'] as const;

/** What `@SkipRateLimit` recorded on a handler or class, if anything. */
function skippedRateLimits(target: object): SkippedRateLimits | undefined {
  return Reflect.getMetadata(SKIP_RATE_LIMIT_METADATA, target) as SkippedRateLimits | undefined;
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

/**
 * The bucket key of a provider call: one shared bucket, or the key function applied to the call's arguments (an
 * `InvalidKeyError` for the call when it returns no key).
 */
function invocationKey(key: RateLimitKey | undefined, limit: string): (invocation: Invocation) => string {
  if (typeof key !== 'function') return () => 'global';
  const keyFn = key as (...args: unknown[]) => unknown;
  return (invocation) => keyFrom(keyFn(...invocation.args), limit, 'rate-limit-key');
}
