import { ResilienceConfigError } from '../../core/errors/resilience-config.error.js';
import { didYouMean } from '../../core/validation/did-you-mean.js';
import { describe, typeOf } from '../../core/validation/options.validator.js';
import type { ResilienceModuleBaseOptions } from '../options/resilience-module.options.js';
import { CONFIGURABLE_KINDS } from '../pipeline/canonical-order.js';

/** Where the errors of this file say the mistake is. */
const POLICY = 'ResilienceModule';

/**
 * The options that are not a policy kind's, in the order messages list them. A `Record` over the keys of their type,
 * so that an option added to `ResilienceModuleBaseOptions` without its entry here fails to compile.
 */
const BASE_KEYS: Record<keyof ResilienceModuleBaseOptions, true> = {
  globalRateLimits: true,
  store: true,
  coordination: true,
  idempotencyStore: true,
  chaos: true,
  lastKnownGoodStore: true,
  deadLetterStore: true,
  metrics: true,
  retryBudgets: true,
  loadShedding: true,
  latencySource: true,
};

/**
 * Top-level keys of `ResilienceModuleOptions`: `defaults`, each configurable kind's named configurations (from the
 * canonical order), the other options (and `isGlobal`, in case an extra reaches the options).
 */
const TOP_LEVEL_KEYS = [
  'defaults',
  ...CONFIGURABLE_KINDS.map(({ configKey }) => configKey),
  ...Object.keys(BASE_KEYS),
  'isGlobal',
];

/** Named-configuration keys, with the kind of options each holds and an example of one, for the messages. */
const NAMED: Record<string, { kind: string; example: string }> = {
  ...Object.fromEntries(
    CONFIGURABLE_KINDS.map(({ configKey, label, example }) => [configKey, { kind: label, example }]),
  ),
  retryBudgets: { kind: 'retry budget', example: '{ ratio: 0.2, minPerSecond: 10, window: 10_000 }' },
};

/** Keys of `defaults`, with the kind of options each holds. */
const DEFAULT_KEYS: Record<string, string> = Object.fromEntries(
  CONFIGURABLE_KINDS.map(({ defaultsKey, label }) => [defaultsKey, label]),
);

/** The named-configuration key of each kind, mapped to its key under `defaults`. */
const SINGULAR: Record<string, string> = Object.fromEntries(
  CONFIGURABLE_KINDS.map(({ configKey, defaultsKey }) => [configKey, defaultsKey]),
);

/** The methods of an `IdempotencyStore`. */
const IDEMPOTENCY_STORE_METHODS = ['acquire', 'complete', 'release', 'get'];

/** The methods a `CircuitBreaker` coordinator has, when a store offers one. */
const COORDINATOR_METHODS = ['join', 'publishOpen', 'acquireProbeLease', 'releaseProbeLease'];

/**
 * Checks the shape of the `ResilienceModule` options (what `forRoot` receives or a `forRootAsync` factory returns)
 * and throws a {@link ResilienceConfigError} naming the option: options that are not an object, unknown top-level
 * keys (with "did you mean"), named configurations or `defaults` entries that are not options objects
 * (`timeouts: { gateway: 800 }`), and a `store` that is not a rate-limit store (a URL string). The options of each
 * policy are checked by the `validate*Options` functions of the core.
 */
export function validateModuleOptions(options: unknown): void {
  if (!isPlainObject(options)) {
    const hint =
      options === undefined || options === null
        ? ': does the forRootAsync useFactory return the options (a missing `return`, or an unawaited value)?'
        : ', e.g. { circuitBreakers: { payments: { failureRateThreshold: 50 } } }';
    fail(`ResilienceModule options must be an object, got ${typeOf(options)}${hint}`);
  }
  for (const key of Object.keys(options)) {
    if (!TOP_LEVEL_KEYS.includes(key)) {
      fail(
        `Unknown ResilienceModule option "${key}".${didYouMean(key, TOP_LEVEL_KEYS)} ` +
          `Known options: ${TOP_LEVEL_KEYS.filter((name) => name !== 'isGlobal').join(', ')}`,
      );
    }
  }
  for (const [key, { kind, example }] of Object.entries(NAMED)) {
    const named = options[key];
    if (named === undefined) continue;
    if (!isPlainObject(named)) {
      fail(
        `ResilienceModule option "${key}" = ${describe(named)} must map names to ${kind} options, ` +
          `e.g. { gateway: ${example} }, got ${typeOf(named)}`,
      );
    }
    for (const [name, entry] of Object.entries(named)) {
      if (!isPlainObject(entry)) {
        fail(
          `ResilienceModule option "${key}.${name}" = ${describe(entry)} must be a ${kind} options object, ` +
            `e.g. ${example}, got ${typeOf(entry)}`,
        );
      }
    }
  }
  validateDefaults(options.defaults);
  validateGlobalRateLimits(options.globalRateLimits, options.rateLimits);
  const { metrics } = options;
  if (metrics !== undefined && typeof metrics !== 'boolean' && metrics !== 'true' && metrics !== 'false') {
    fail(`ResilienceModule option "metrics" = ${describe(metrics)} must be true or false, got ${typeOf(metrics)}`);
  }
  validateLoadShedding(options.loadShedding);
  const latencySource: unknown = options.latencySource;
  if (
    latencySource !== undefined &&
    !(isPlainObject(latencySource) && typeof latencySource.percentile === 'function')
  ) {
    fail(`ResilienceModule option "latencySource" must have a percentile() method, got ${typeOf(latencySource)}`);
  }
  validateStore(options.store);
  validateIdempotencyStore(options.idempotencyStore);
  validateLastKnownGoodStore(options.lastKnownGoodStore);
  validateDeadLetterStore(options.deadLetterStore);
  if (options.coordination !== undefined) {
    if (!isPlainObject(options.coordination)) {
      fail(
        'ResilienceModule option "coordination" must be a RedisStore or a BreakerCoordination, ' +
          `got ${typeOf(options.coordination)}`,
      );
    }
    const { coordinator } = options.coordination;
    if (coordinator === undefined) {
      fail('ResilienceModule option "coordination" has no "coordinator": give a RedisStore or a BreakerCoordination');
    }
    validateCoordinator(coordinator, 'option "coordination": its "coordinator"');
  }
}

/** `globalRateLimits`: an array of names of `rateLimits` configurations, each known (with "did you mean"). */
function validateGlobalRateLimits(names: unknown, rateLimits: unknown): void {
  if (names === undefined) return;
  if (!Array.isArray(names)) {
    fail(
      `ResilienceModule option "globalRateLimits" = ${describe(names)} must be an array of names of "rateLimits" ` +
        `configurations, e.g. ['burst', 'sustained'], got ${typeOf(names)}`,
    );
  }
  const known = isPlainObject(rateLimits) ? Object.keys(rateLimits) : [];
  for (const name of names as unknown[]) {
    if (typeof name === 'string' && known.includes(name)) continue;
    fail(
      `ResilienceModule option "globalRateLimits" names ${describe(name)}, which is not a "rateLimits" ` +
        `configuration.${typeof name === 'string' ? didYouMean(name, known) : ''} Known: ` +
        (known.length ? known.map((key) => `"${key}"`).join(', ') : 'none'),
    );
  }
}

/** Duck-types `LastKnownGoodStore`: `get` and `set` methods. */
function validateLastKnownGoodStore(store: unknown): void {
  if (store === undefined) return;
  const methods = typeof store === 'object' && store !== null ? (store as Record<string, unknown>) : {};
  if (typeof methods.get !== 'function' || typeof methods.set !== 'function') {
    fail(
      `ResilienceModule option "lastKnownGoodStore" = ${describe(store)} must be a last-known-good store ` +
        `(get and set methods), got ${typeOf(store)}: for Redis write new RedisLastKnownGoodStore(redisStore)`,
    );
  }
}

/** Duck-types `DeadLetterStore`: its six methods. */
function validateDeadLetterStore(store: unknown): void {
  if (store === undefined) return;
  const methods = typeof store === 'object' && store !== null ? (store as Record<string, unknown>) : {};
  const missing = ['add', 'list', 'get', 'claim', 'recordReplay', 'delete'].filter(
    (name) => typeof methods[name] !== 'function',
  );
  if (missing.length > 0) {
    fail(
      `ResilienceModule option "deadLetterStore" = ${describe(store)} must be a dead-letter store (missing ` +
        `${missing.join(', ')}), got ${typeOf(store)}: for Redis write new RedisDeadLetterStore(redisStore)`,
    );
  }
}

function validateDefaults(defaults: unknown): void {
  if (defaults === undefined) return;
  const known = Object.keys(DEFAULT_KEYS);
  if (!isPlainObject(defaults)) {
    fail(
      `ResilienceModule option "defaults" = ${describe(defaults)} must be an object with any of ${known.join(', ')}, ` +
        `got ${typeOf(defaults)}`,
    );
  }
  for (const [key, entry] of Object.entries(defaults)) {
    if (!(key in DEFAULT_KEYS)) {
      // The likely slip: the plural name of the named configurations (`retries`) where defaults use the singular.
      const singular = SINGULAR[key];
      const hint = singular ? ` Did you mean "${singular}"? (defaults use the singular)` : didYouMean(key, known);
      fail(`Unknown ResilienceModule option "defaults.${key}".${hint} Known: ${known.join(', ')}`);
    }
    if (entry !== undefined && !isPlainObject(entry)) {
      fail(
        `ResilienceModule option "defaults.${key}" = ${describe(entry)} must be ${DEFAULT_KEYS[key]} options ` +
          `(an object), got ${typeOf(entry)}`,
      );
    }
  }
}

/**
 * Duck-types `RateLimitStore`: a `consume` method, and `attach`, `close`, `coordinator` of the right shape if given.
 */
function validateStore(store: unknown): void {
  if (store === undefined) return;
  if (typeof store === 'string') {
    fail(
      `ResilienceModule option "store" = ${describe(store)} must be a rate-limit store, got a string: ` +
        `for Redis write store: new RedisStore({ url: ${JSON.stringify(store)} }) ` +
        `(import { RedisStore } from 'nest-resilience/redis')`,
    );
  }
  if (typeof store !== 'object' || store === null) {
    fail(
      'ResilienceModule option "store" must be a rate-limit store (an object with a consume method), ' +
        `got ${typeOf(store)}`,
    );
  }
  const candidate = store as Record<string, unknown>;
  const wrong = (member: string, what: string) =>
    fail(
      `ResilienceModule option "store" is not a rate-limit store: its "${member}" must be ${what}, ` +
        `got ${typeOf(candidate[member])} (use MemoryRateLimitStore, RedisStore, or implement RateLimitStore)`,
    );
  if (typeof candidate.consume !== 'function') wrong('consume', 'a method');
  for (const optional of ['attach', 'close']) {
    if (candidate[optional] !== undefined && typeof candidate[optional] !== 'function')
      wrong(optional, 'a method when given');
  }
  if (candidate.coordinator !== undefined)
    validateCoordinator(candidate.coordinator, 'the "coordinator" of option "store"');
}

/** Duck-types `IdempotencyStore`: `acquire`, `complete`, `release` and `get` methods. */
function validateIdempotencyStore(store: unknown): void {
  if (store === undefined) return;
  const missing =
    typeof store === 'object' && store !== null
      ? IDEMPOTENCY_STORE_METHODS.filter((method) => typeof (store as Record<string, unknown>)[method] !== 'function')
      : IDEMPOTENCY_STORE_METHODS;
  if (missing.length > 0) {
    fail(
      `ResilienceModule option "idempotencyStore" = ${describe(store)} must be an IdempotencyStore ` +
        `(MemoryIdempotencyStore, redisStore.idempotency, or your own), got ${typeOf(store)} ` +
        `lacking ${missing.join(', ')}`,
    );
  }
}

/** `true`, `false` or an options object (whose options the load shedder checks); a sampler with a `sample` method. */
function validateLoadShedding(loadShedding: unknown): void {
  if (loadShedding === undefined || typeof loadShedding === 'boolean') return;
  if (!isPlainObject(loadShedding)) {
    fail(
      `ResilienceModule option "loadShedding" = ${describe(loadShedding)} must be true, false or an options object, ` +
        `e.g. { eventLoopDelay: { soft: 50, hard: 200 } }, got ${typeOf(loadShedding)}`,
    );
  }
  const sampler: unknown = loadShedding.sampler;
  if (sampler !== undefined && !(isPlainObject(sampler) && typeof sampler.sample === 'function')) {
    fail(`ResilienceModule option "loadShedding.sampler" must have a sample() method, got ${typeOf(sampler)}`);
  }
}

/** Duck-types `CircuitCoordinator`, given as the `coordinator` option or brought by the store. */
function validateCoordinator(coordinator: unknown, where: string): void {
  if (coordinator === undefined) return;
  if (typeof coordinator !== 'object' || coordinator === null) {
    fail(
      `ResilienceModule ${where} must be a CircuitCoordinator (e.g. redisStore.coordinator), ` +
        `got ${typeOf(coordinator)}`,
    );
  }
  const missing = COORDINATOR_METHODS.filter(
    (method) => typeof (coordinator as Record<string, unknown>)[method] !== 'function',
  );
  if (missing.length) {
    fail(`ResilienceModule ${where} is not a CircuitCoordinator: it lacks the method(s) ${missing.join(', ')}`);
  }
}

/** An options object: any non-null object but an array (instances of a config class are fine). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(message: string): never {
  throw new ResilienceConfigError(message, POLICY);
}
