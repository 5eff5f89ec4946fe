import type { ExecutionContext } from '@nestjs/common';
import type { ResilienceEvents } from '../../../core/events/resilience-events.js';
import type { FallbackFunction } from '../../../core/fallback/fallback.options.js';
import {
  FallbackPolicy,
  type FallbackHandler,
  type FallbackHooks,
  type FallbackStepHandler,
} from '../../../core/fallback/fallback.policy.js';
import type { LastKnownGoodStore } from '../../../core/fallback/last-known-good-store.interface.js';
import {
  validateLastKnownGoodOptions,
  type LastKnownGoodOptions,
} from '../../../core/fallback/last-known-good.options.js';
import type { LastKnownGoodState } from '../../../core/fallback/last-known-good.state.js';
import type { Invocation } from '../../../core/pipeline/invocation.js';
import type { ResilienceRegistry } from '../../../core/registry/resilience-registry.js';
import { argumentsKey, isOpaqueParameterType } from '../../../core/validation/key-data.js';
import { OptionsValidator, typeOf } from '../../../core/validation/options.validator.js';
import {
  FALLBACK_METADATA,
  type FallbackSpec,
  type FallbackStepSpec,
} from '../../../decorators/resilience.metadata.js';
import type { PolicyKind, Stage } from '../stage.js';
import { defaultHandlerKey, markStale } from '../../handlers/last-known-good.context.js';

/** `@Fallback`: a chain of steps, recorded by the decorator (or a `ResilienceService` pipeline's `fallback`). */
export const FALLBACK_KIND: PolicyKind = { label: 'fallback', decorator: '@Fallback', metadataKey: FALLBACK_METADATA };

/** Outside every policy but idempotency and the dead letter: it answers once everything else gave up. */
export const FALLBACK_STAGE = {
  name: 'fallback',
  kind: FALLBACK_KIND,
  build: ({ read, prototype, method, declaredAt, receiverOf, site }, { events, registry, options }) => {
    const spec = read(FALLBACK_METADATA) as FallbackSpec | undefined;
    if (spec === undefined) return [];
    const store = options.lastKnownGoodStore;
    return [buildFallbackPolicy(spec, { prototype, method, declaredAt, site, receiverOf, events, registry, store })];
  },
} as const satisfies Stage;

/** What building a method's fallback chain needs from the pipeline factory. */
export interface FallbackStageContext {
  readonly prototype: object;
  /** The decorated method (not for a `ResilienceService` pipeline): its declared parameter types are checked. */
  readonly method?: object;
  readonly declaredAt: string;
  readonly site: 'provider' | 'handler';
  /** The receiver of `'method'` steps for a call (a Promise of it for request-scoped handlers). */
  readonly receiverOf: (invocation: Invocation) => unknown;
  readonly events: ResilienceEvents;
  readonly registry: ResilienceRegistry;
  /** The module's `lastKnownGoodStore`, when it gives one (Redis); else each cache has its own memory store. */
  readonly store: LastKnownGoodStore | undefined;
}

const STEP_KINDS = ['method', 'fn', 'value', 'lastKnownGood'] as const;

/** The `@Fallback` chain of a method as a {@link FallbackPolicy}, each step checked (at bootstrap). */
export function buildFallbackPolicy(spec: FallbackSpec, context: FallbackStageContext): FallbackPolicy {
  const { declaredAt } = context;
  const validator = new OptionsValidator('fallback', declaredAt, declaredAt);
  validator.optionalFunction('when', spec.when);
  if (spec.steps.length === 0) validator.fail('steps', [], 'a fallback chain needs at least one step');
  const caches: { state: LastKnownGoodState; keyOf: (invocation: Invocation) => string | undefined }[] = [];
  const steps = spec.steps.map((step, index): FallbackStepHandler => {
    const stepValidator =
      spec.steps.length === 1 ? validator : new OptionsValidator('fallback', `${declaredAt} step ${index}`, declaredAt);
    if (typeof step !== 'object' || step === null) {
      stepValidator.fail(
        'step',
        step,
        `must be a method name, a function, { value }, { method }, { fn } or { lastKnownGood }, got ${typeOf(step)}`,
      );
    }
    stepValidator.knownOptions(step, [...STEP_KINDS, 'when']);
    const kinds = STEP_KINDS.filter((kind) => kind in step);
    if (kinds.length !== 1) {
      stepValidator.fail('step', step, `needs exactly one of ${STEP_KINDS.join(', ')}, got ${kinds.length}`);
    }
    stepValidator.optionalFunction('when', step.when);
    if ('lastKnownGood' in step) {
      const cache = lastKnownGoodCache(step.lastKnownGood, stepValidator, context);
      caches.push(cache);
      return { when: step.when, run: (_error, invocation) => cache.state.recall(cache.keyOf(invocation)) };
    }
    return { when: step.when, run: stepHandler(step, stepValidator, context) };
  });
  const hooks: FallbackHooks =
    caches.length === 0
      ? {}
      : {
          remember: (invocation, value) => {
            for (const { state, keyOf } of caches) state.remember(keyOf(invocation), value);
          },
          onStale:
            context.site === 'handler'
              ? (invocation, ageMs) => markStale(invocation.args[0] as ExecutionContext, ageMs)
              : undefined,
        };
  return new FallbackPolicy(declaredAt, steps, spec.when, context.events, hooks);
}

function stepHandler(
  step: Exclude<FallbackStepSpec, { lastKnownGood: unknown }>,
  validator: OptionsValidator,
  { prototype, receiverOf }: FallbackStageContext,
): FallbackHandler {
  if ('value' in step) {
    const { value } = step;
    return () => value;
  }
  if ('fn' in step) {
    const fn = step.fn as FallbackFunction<unknown[]>;
    if (typeof fn !== 'function') validator.fail('fn', fn, `must be a function, got ${typeOf(fn)}`);
    return (error, invocation) => fn(error, ...invocation.args);
  }
  const methodName = step.method;
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

/**
 * The cache of a last-known-good step and the call key it uses. On handlers, whose answer may depend on who asks,
 * a key function is required unless the step is marked `shared`: serving one principal's answer to another must be
 * a decision, never a default.
 */
function lastKnownGoodCache(
  options: Partial<LastKnownGoodOptions>,
  validator: OptionsValidator,
  { declaredAt, site, registry, store, prototype, method }: FallbackStageContext,
): { state: LastKnownGoodState; keyOf: (invocation: Invocation) => string | undefined } {
  const resolved = validateLastKnownGoodOptions(options, validator);
  if (site === 'handler' && resolved.key === undefined && !resolved.shared) {
    validator.fail(
      'key',
      undefined,
      'a last-known-good step on a handler needs a key that includes the principal when the answer depends on ' +
        'who asks, e.g. key: (context) => `${user(context).id}:${context.switchToHttp().getRequest().url}`; ' +
        'or shared: true when it never does (the key is then the route and its arguments)',
    );
  }
  if (site === 'provider' && resolved.key === undefined) refuseOpaqueParameters(validator, prototype, method);
  const state = registry.lastKnownGoodFor(resolved.name ?? declaredAt, resolved, store);
  return { state, keyOf: keyFunction(resolved.key, site) };
}

/**
 * The default key of a provider step is its arguments as JSON, which is only a key when they are data: a `Map`, a
 * `Set` or a class instance (`#private` fields included) serializes as `{}`, so different arguments would share one
 * remembered answer. A method declaring such a parameter must give `key` (checked at bootstrap); at run time,
 * arguments that are not data are neither remembered nor recalled (`skipped` in the snapshot).
 */
function refuseOpaqueParameters(validator: OptionsValidator, prototype: object, method: object | undefined): void {
  const name = (method as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string') return;
  const types = Reflect.getMetadata('design:paramtypes', prototype, name) as unknown[] | undefined;
  const index = types?.findIndex(isOpaqueParameterType) ?? -1;
  if (index < 0) return;
  const typeName = (types![index] as { name?: string }).name || 'a class';
  validator.fail(
    'key',
    undefined,
    `a last-known-good step needs a key when an argument is not plain data: parameter ${index} is a ${typeName}, ` +
      'which serializes as {} (Map, Set, class instances with #private fields), so different arguments would share ' +
      `one remembered answer; give key: (...args) => a string that identifies the call`,
  );
}

/** The call key: the key function's answer, or by default the arguments (services) or the request (handlers). */
function keyFunction(
  key: ((...args: never[]) => string | undefined) | undefined,
  site: 'provider' | 'handler',
): (invocation: Invocation) => string | undefined {
  if (key !== undefined) {
    const keyFn = key as (...args: unknown[]) => unknown;
    return (invocation) => {
      let value: unknown;
      try {
        value = keyFn(...invocation.args);
      } catch {
        return undefined; // a throwing key function must not fail a successful call: nothing is remembered
      }
      return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
    };
  }
  if (site === 'handler') return (invocation) => defaultHandlerKey(invocation.args[0] as ExecutionContext);
  // Arguments that are not data (a Map, a class instance, cycles): nothing is remembered or recalled.
  return (invocation) => argumentsKey(invocation.args);
}
