import type { PolicyTarget } from '../../../core/events/resilience-event.interface.js';
import {
  DEFAULT_IDEMPOTENCY_LEASE,
  DEFAULT_IDEMPOTENCY_OPTIONS,
  validateIdempotencyOptions,
  type IdempotencyOptions,
} from '../../../core/idempotency/idempotency.options.js';
import type { IdempotencyStore } from '../../../core/idempotency/idempotency-store.interface.js';
import { IdempotentPolicy } from '../../../core/idempotency/idempotent.policy.js';
import { MemoryIdempotencyStore } from '../../../core/idempotency/memory-idempotency.store.js';
import { longestRetryWaits } from '../../../core/retry/backoff.js';
import type { RetryOptions } from '../../../core/retry/retry.options.js';
import type { ResolvedAdaptiveTimeoutOptions, TimeoutOptions } from '../../../core/timeout/timeout.options.js';
import { DEFAULT_HEDGE_OPTIONS, validateHedgeOptions, type HedgeOptions } from '../../../core/hedge/hedge.options.js';
import { OptionsValidator } from '../../../core/validation/options.validator.js';
import { ResilienceConfigError } from '../../../core/errors/resilience-config.error.js';
import { isHttpRoute, isMessageHandler } from '../../request/handler-kind.js';
import { keyFrom } from '../../../core/validation/key-data.js';
import { withoutUndefined } from '../../../core/validation/without-undefined.js';
import {
  HEDGE_METADATA,
  IDEMPOTENT_METADATA,
  RETRY_METADATA,
  TIMEOUT_METADATA,
  type PolicySpec,
} from '../../../decorators/resilience.metadata.js';
import type { PolicyKind, PolicySite, SpecReader, Stage, StageHost } from '../stage.js';
import { RETRY_KIND } from './retry.stage.js';
import { TIMEOUT_KIND } from './timeout.stage.js';

/** `@Idempotent`: inline options only; the store is the module's. */
export const IDEMPOTENT_KIND: PolicyKind = {
  label: 'idempotency',
  decorator: '@Idempotent',
  metadataKey: IDEMPOTENT_METADATA,
};

/** `@Idempotent` options that only mean something on HTTP handlers. */
const HANDLER_ONLY_IDEMPOTENCY_OPTIONS = [
  'methods',
  'required',
  'scope',
  'fingerprint',
  'onInFlight',
  'replay',
] as const;
/** `@Idempotent` options that only mean something on provider methods and message handlers. */
const PROVIDER_ONLY_IDEMPOTENCY_OPTIONS = ['key', 'rememberErrors'] as const;

/** Where `@Idempotent` is: a provider method, an HTTP (or other request) handler, or a microservice message handler. */
type IdempotencySite = PolicySite | 'message';

/**
 * Outermost: it stores what the caller finally got. Provider methods: `@Idempotent({ key })`; on handlers it runs
 * before the policies, as a step of the handler pipeline (see `handlerIdempotency`).
 */
export const IDEMPOTENT_STAGE = {
  name: 'idempotent',
  kind: IDEMPOTENT_KIND,
  build: ({ read, declaredAt, site }, host) => {
    if (site !== 'provider') return [];
    const options = idempotencyOptions(read, declaredAt, 'provider');
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
      new IdempotentPolicy(
        declaredAt,
        (invocation) => keyFrom(keyFn(...invocation.args), declaredAt, 'idempotency-key'),
        idempotencyStore(host),
        {
          ttl: options.ttl,
          lease: leaseOf(host, read, declaredAt, options),
          rememberErrors: options.rememberErrors,
          onStoreError: options.onStoreError,
        },
      ),
    ];
  },
} as const satisfies Stage;

/** `@Idempotent` on one handler, as the factory resolved it. */
export interface HandlerIdempotencySpec {
  readonly options: IdempotencyOptions;
  readonly leaseMs: number;
  readonly store: IdempotencyStore;
  /** Read per request: while it answers `false` the handler runs as if it had no `@Idempotent` (the testing kit). */
  readonly active?: () => boolean;
}

/** `@Idempotent` on a handler, validated, with its store and lease; `undefined` when the handler has none. */
export function handlerIdempotency(
  host: StageHost,
  method: object,
  target: PolicyTarget,
): HandlerIdempotencySpec | undefined {
  const declaredAt = `${target.className}.${target.methodName}`;
  const read: SpecReader = (key) => Reflect.getMetadata(key, method);
  const site: IdempotencySite = isMessageHandler(method) ? 'message' : 'handler';
  const options = idempotencyOptions(read, declaredAt, site);
  if (options === undefined) return undefined;
  if (site === 'handler' && !isHttpRoute(method)) {
    // A gateway message or a GraphQL resolver has no Idempotency-Key and no redelivery: refuse rather than do nothing.
    throw new ResilienceConfigError(
      `@Idempotent on ${declaredAt}: WebSocket and GraphQL handlers carry no Idempotency-Key, so nothing would ` +
        'recognise a repeat; put @Idempotent({ key }) on the provider method the handler calls instead',
      declaredAt,
    );
  }
  if (site === 'message' && options.key === undefined) {
    // Without a key a message handler has nothing to recognise a redelivery by: refuse rather than do nothing.
    new OptionsValidator('idempotency', declaredAt, declaredAt).fail(
      'key',
      undefined,
      'is required on message handlers: a function of the message naming it, e.g. (data) => data.id',
    );
  }
  return { options, leaseMs: leaseOf(host, read, declaredAt, options), store: idempotencyStore(host) };
}

/** The application's idempotency store: the option, else the rate-limit store's (a `RedisStore`), else memory. */
function idempotencyStore(host: StageHost): IdempotencyStore {
  return host.once(IDEMPOTENT_KIND, () => {
    const fromStore = (host.options.store as { idempotency?: IdempotencyStore } | undefined)?.idempotency;
    return host.options.idempotencyStore ?? fromStore ?? new MemoryIdempotencyStore();
  });
}

function idempotencyOptions(
  read: SpecReader,
  declaredAt: string,
  site: IdempotencySite = 'handler',
): IdempotencyOptions | undefined {
  const spec = read(IDEMPOTENT_METADATA) as PolicySpec<IdempotencyOptions> | undefined;
  if (spec === undefined) return undefined;
  const validator = new OptionsValidator('idempotency', declaredAt, declaredAt);
  const given = withoutUndefined(spec.options);
  // An option of the other site would silently do nothing: say so at bootstrap.
  for (const option of site === 'handler' ? PROVIDER_ONLY_IDEMPOTENCY_OPTIONS : HANDLER_ONLY_IDEMPOTENCY_OPTIONS) {
    if (!Object.hasOwn(given, option)) continue;
    validator.fail(
      option,
      given[option],
      site === 'provider'
        ? 'applies to HTTP handlers only; a provider method names its call with "key"'
        : site === 'message'
          ? 'applies to HTTP handlers only; a message handler names its message with "key"'
          : 'applies to provider methods and message handlers only; an HTTP handler reads its key from the ' +
            'Idempotency-Key header',
    );
  }
  return validateIdempotencyOptions({ ...DEFAULT_IDEMPOTENCY_OPTIONS, ...given }, validator);
}

/**
 * How long an in-flight record holds its key: the `lease` option, else shortly (1 s, for `@Fallback` and the dead
 * letter) after the longest the method may legitimately run, computed at bootstrap from its own policies: one attempt
 * lasts its `@Timeout` (an adaptive one up to its `max`), a hedged attempt until its last hedge (started `maxHedges`
 * delays later) times out, `@Retry` runs `maxAttempts` of them with the longest waits its backoff can draw between
 * (`longestRetryWaits`; a `Retry-After` is then honoured only up to those, see `RetryPolicy`); a `total` bounds it
 * all. Without a `@Timeout` nothing bounds the method: 60 s. Computed rather than renewed while the handler runs:
 * every store works unchanged, no timer runs per request, and a hung handler cannot hold its key for ever.
 */
function leaseOf(host: StageHost, read: SpecReader, declaredAt: string, options: IdempotencyOptions): number {
  if (options.lease !== undefined) return options.lease;
  const timeoutSpec = read(TIMEOUT_METADATA) as PolicySpec<TimeoutOptions> | undefined;
  if (timeoutSpec === undefined) return DEFAULT_IDEMPOTENCY_LEASE;
  const timeout = host.resolve(TIMEOUT_KIND, timeoutSpec, declaredAt).options;
  const adaptive = timeout.adaptive as ResolvedAdaptiveTimeoutOptions | undefined;
  const attempt = Math.max(timeout.duration, adaptive?.max ?? 0);
  let span = attempt;
  const hedgeSpec = read(HEDGE_METADATA) as PolicySpec<HedgeOptions> | undefined;
  if (hedgeSpec !== undefined) {
    const hedge = validateHedgeOptions(
      { ...DEFAULT_HEDGE_OPTIONS, ...withoutUndefined(hedgeSpec.options) },
      new OptionsValidator('hedge', declaredAt, declaredAt),
    );
    // A percentile delay follows latencies the attempt timeout cuts short: at most one attempt's length.
    const delay = typeof hedge.delay === 'number' ? hedge.delay : Math.max(hedge.delay.fallback ?? 100, attempt);
    span += hedge.maxHedges * delay;
  }
  const retrySpec = read(RETRY_METADATA) as PolicySpec<RetryOptions> | undefined;
  let longest = span;
  if (retrySpec !== undefined) {
    const retry = host.resolve(RETRY_KIND, retrySpec, declaredAt).options;
    longest = span * retry.maxAttempts + longestRetryWaits(retry);
  }
  if (timeout.total !== undefined) longest = Math.min(longest, timeout.total);
  return Math.min(longest + 1000, 2_147_483_647);
}
