import {
  DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  validateCircuitBreakerOptions,
  type CircuitBreakerOptions,
} from '../core/circuit-breaker/circuit-breaker.options.js';
import { validateBulkheadOptions, type BulkheadOptions } from '../core/bulkhead/bulkhead.options.js';
import { validateHedgeOptions, type HedgeOptions } from '../core/hedge/hedge.options.js';
import {
  DEFAULT_RATE_LIMIT_OPTIONS,
  validateRateLimitOptions,
  type RateLimitOptions,
} from '../core/rate-limit/rate-limit.options.js';
import { validateRetryOptions, type RetryOptions } from '../core/retry/retry.options.js';
import { deepFreeze } from '../core/validation/deep-freeze.js';
import { OptionsValidator, typeOf } from '../core/validation/options.validator.js';
import { withoutUndefined } from '../core/validation/without-undefined.js';
import { isTransientHttpFailure } from './http-classification.js';
import type {
  HttpBulkheadOptions,
  HttpCircuitBreakerOptions,
  HttpHedgeOptions,
  HttpIdempotencyKeyOptions,
  HttpRetryOptions,
  ResilientHttpClientOptions,
} from './http-client.options.js';

/**
 * The defaults of every client, beside .NET's `AddStandardResilienceHandler()` (docs/http-client.md has the table):
 * total timeout 30 s, retry 3 times with jittered exponential backoff from 2 s honouring `Retry-After`, a breaker per
 * origin opening at 10% failures of at least 100 calls in 30 s for 5 s, attempt timeout 10 s, 1000 concurrent
 * requests per origin without queue. Frozen.
 */
export const DEFAULT_HTTP_CLIENT_OPTIONS = deepFreeze({
  totalTimeout: 30_000,
  attemptTimeout: 10_000,
  retry: {
    maxAttempts: 4,
    backoff: 'exponential',
    initialDelay: 2000,
    maxDelay: 30_000,
    multiplier: 2,
    jitter: 'equal',
  } satisfies HttpRetryOptions,
  circuitBreaker: {
    window: 'time',
    windowSize: 30,
    minimumCalls: 100,
    failureRateThreshold: 10,
    openDuration: 5000,
  } satisfies Partial<HttpCircuitBreakerOptions>,
  bulkhead: { maxConcurrent: 1000, maxQueue: 0 } satisfies HttpBulkheadOptions,
  hedge: { maxHedges: 1, delay: 2000 } satisfies HttpHedgeOptions,
  idempotencyKey: { header: 'Idempotency-Key', methods: ['POST'] } satisfies HttpIdempotencyKeyOptions,
  maxOrigins: 32,
  maxBodyExcerpt: 1024,
});

/** A client's options with every default applied and checked. */
export interface ResolvedHttpClientOptions {
  readonly name: string;
  /** Without a trailing slash. */
  readonly baseUrl: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly totalTimeout: number | undefined;
  readonly attemptTimeout: number | undefined;
  readonly retry: RetryOptions | undefined;
  readonly circuitBreaker: CircuitBreakerOptions | undefined;
  readonly bulkhead: BulkheadOptions | undefined;
  readonly rateLimit: RateLimitOptions | undefined;
  readonly hedge: HedgeOptions | undefined;
  readonly idempotencyKey: HttpIdempotencyKeyOptions | undefined;
  readonly maxOrigins: number;
  readonly maxBodyExcerpt: number;
  readonly fetch: typeof fetch;
}

const OPTION_NAMES = Object.keys({
  name: true,
  baseUrl: true,
  headers: true,
  totalTimeout: true,
  attemptTimeout: true,
  retry: true,
  circuitBreaker: true,
  bulkhead: true,
  rateLimit: true,
  hedge: true,
  idempotencyKey: true,
  maxOrigins: true,
  maxBodyExcerpt: true,
  fetch: true,
} satisfies Record<keyof ResilientHttpClientOptions, true>);

/** Options a client stage refuses although its policy has them: they make no sense per origin of one client. */
const REFUSED = { retry: ['retryNonIdempotent', 'budget', 'retryOnResult', 'retryErrors', 'ignoreErrors'] };

/**
 * Applies the defaults and checks every option: a mistake throws a `ResilienceConfigError` naming the option, the
 * value, its type and the client (`declaredAt` says where: `ResilientHttpModule.register`).
 */
export function resolveHttpClientOptions(
  options: ResilientHttpClientOptions,
  declaredAt: string,
): ResolvedHttpClientOptions {
  const top = new OptionsValidator('http client', String((options as { name?: unknown } | null)?.name), declaredAt);
  if (typeof options !== 'object' || options === null) {
    top.fail('options', options, `must be an object with at least a name, got ${typeOf(options)}`);
  }
  top.knownOptions(options, OPTION_NAMES);
  const { name } = options;
  if (typeof name !== 'string' || name.trim() === '') {
    top.fail('name', name, `must be a non-empty string (the client's name in @InjectHttpClient), got ${typeOf(name)}`);
  }
  const validator = (kind: string) => new OptionsValidator(kind, name, `${declaredAt} (client "${name}")`);
  const client = validator('http client');
  const stage = <T>(key: string, value: unknown): Partial<T> | false => {
    if (value === undefined) return {};
    if (value === false) return false;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return client.fail(key, value, `must be an options object or false, got ${typeOf(value)}`);
    }
    return withoutUndefined(value as Partial<T>);
  };

  const retry = stage<RetryOptions>('retry', options.retry);
  if (retry !== false) {
    for (const refused of REFUSED.retry) {
      if ((retry as Record<string, unknown>)[refused] !== undefined) {
        validator('retry').fail(
          refused,
          (retry as Record<string, unknown>)[refused],
          'does not apply to an HTTP client',
        );
      }
    }
  }
  const breaker = stage<CircuitBreakerOptions>('circuitBreaker', options.circuitBreaker);
  if (breaker !== false && breaker.coordination !== undefined) {
    validator('circuit breaker').fail('coordination', breaker.coordination, 'does not apply to an HTTP client');
  }
  const bulkhead = stage<BulkheadOptions>('bulkhead', options.bulkhead);
  const rateLimit = options.rateLimit === undefined ? false : stage<RateLimitOptions>('rateLimit', options.rateLimit);
  const hedge =
    options.hedge === undefined || options.hedge === false
      ? false
      : options.hedge === true
        ? {}
        : stage<HedgeOptions>('hedge', options.hedge);
  const key = stage<HttpIdempotencyKeyOptions>('idempotencyKey', options.idempotencyKey);

  return {
    name,
    baseUrl: baseUrlOf(options.baseUrl, client),
    headers: headersOf(options.headers, client),
    totalTimeout: timeoutOf('totalTimeout', options.totalTimeout, DEFAULT_HTTP_CLIENT_OPTIONS.totalTimeout, client),
    attemptTimeout: timeoutOf(
      'attemptTimeout',
      options.attemptTimeout,
      DEFAULT_HTTP_CLIENT_OPTIONS.attemptTimeout,
      client,
    ),
    retry:
      retry === false
        ? undefined
        : validateRetryOptions({ ...DEFAULT_HTTP_CLIENT_OPTIONS.retry, ...retry }, validator('retry')),
    circuitBreaker:
      breaker === false
        ? undefined
        : validateCircuitBreakerOptions(
            {
              ...DEFAULT_CIRCUIT_BREAKER_OPTIONS,
              ...DEFAULT_HTTP_CLIENT_OPTIONS.circuitBreaker,
              recordIf: isTransientHttpFailure,
              ...breaker,
            },
            validator('circuit breaker'),
          ),
    bulkhead:
      bulkhead === false
        ? undefined
        : validateBulkheadOptions(
            {
              ...DEFAULT_HTTP_CLIENT_OPTIONS.bulkhead,
              ...onlyKnown(bulkhead, ['maxConcurrent', 'maxQueue', 'maxWait'], validator('bulkhead')),
            },
            validator('bulkhead'),
          ),
    rateLimit: rateLimit === false ? undefined : rateLimitOf(rateLimit, validator('rate limit')),
    hedge:
      hedge === false
        ? undefined
        : validateHedgeOptions(
            { ...DEFAULT_HTTP_CLIENT_OPTIONS.hedge, ...onlyKnown(hedge, ['maxHedges', 'delay'], validator('hedge')) },
            validator('hedge'),
          ),
    idempotencyKey: key === false ? undefined : idempotencyKeyOf(key, validator('idempotency key')),
    maxOrigins: client.integerBetween(
      'maxOrigins',
      options.maxOrigins ?? DEFAULT_HTTP_CLIENT_OPTIONS.maxOrigins,
      1,
      10_000,
      'each origin keeps its own breaker, bulkhead and bucket (a count window is up to 10 KB) and metric labels',
    ),
    maxBodyExcerpt: client.integerBetween(
      'maxBodyExcerpt',
      options.maxBodyExcerpt ?? DEFAULT_HTTP_CLIENT_OPTIONS.maxBodyExcerpt,
      0,
      1_000_000,
      'the excerpt is kept in every HttpClientError (up to 2 bytes a character); read the full body from the response',
    ),
    fetch: fetchOf(options.fetch, client),
  };
}

function onlyKnown<T extends object>(options: T, known: readonly string[], validator: OptionsValidator): T {
  validator.knownOptions(options, known);
  return options;
}

function timeoutOf(option: string, value: unknown, fallback: number, validator: OptionsValidator): number | undefined {
  if (value === false) return undefined;
  return validator.positiveDuration(option, value ?? fallback);
}

function baseUrlOf(value: unknown, validator: OptionsValidator): string | undefined {
  if (value === undefined) return undefined;
  const text = value instanceof URL ? value.href : value;
  if (typeof text !== 'string')
    return validator.fail('baseUrl', value, `must be an absolute URL, got ${typeOf(value)}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return validator.fail('baseUrl', value, 'must be an absolute URL with its scheme (https://api.example.com)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return validator.fail('baseUrl', value, `must be an http: or https: URL, got ${url.protocol}`);
  }
  if (url.search !== '' || url.hash !== '') {
    return validator.fail('baseUrl', value, 'must have no query string or fragment (give `query` per call)');
  }
  return url.href.replace(/\/+$/, '');
}

function headersOf(value: unknown, validator: OptionsValidator): Readonly<Record<string, string>> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return validator.fail('headers', value, `must be an object of header names to strings, got ${typeOf(value)}`);
  }
  for (const [header, text] of Object.entries(value)) {
    if (typeof text !== 'string')
      validator.fail(`headers.${header}`, '(hidden)', `must be a string, got ${typeOf(text)}`);
  }
  return Object.freeze({ ...(value as Record<string, string>) });
}

function rateLimitOf(options: Partial<RateLimitOptions>, validator: OptionsValidator): RateLimitOptions {
  validator.knownOptions(options, ['limit', 'interval', 'burst', 'maxWait']);
  if (options.limit === undefined) validator.fail('limit', undefined, 'is required: requests allowed per interval');
  return validateRateLimitOptions({ ...DEFAULT_RATE_LIMIT_OPTIONS, headers: false, ...options }, validator);
}

/** Header names are tokens (RFC 9110): letters, digits and `!#$%&'*+-.^_|~`. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function idempotencyKeyOf(
  options: Partial<HttpIdempotencyKeyOptions>,
  validator: OptionsValidator,
): HttpIdempotencyKeyOptions {
  validator.knownOptions(options, ['header', 'methods']);
  const { header = DEFAULT_HTTP_CLIENT_OPTIONS.idempotencyKey.header } = options;
  if (typeof header !== 'string' || !TOKEN.test(header)) {
    validator.fail('header', header, `must be an HTTP header name, got ${typeOf(header)}`);
  }
  const methods: unknown = options.methods ?? DEFAULT_HTTP_CLIENT_OPTIONS.idempotencyKey.methods;
  if (!Array.isArray(methods)) {
    return validator.fail('methods', methods, `must be an array of 'POST' and 'PATCH', got ${typeOf(methods)}`);
  }
  const checked = methods.map((method: unknown) =>
    method === 'POST' || method === 'PATCH'
      ? method
      : validator.fail('methods', methods, `may hold 'POST' and 'PATCH' only`),
  );
  return { header, methods: checked };
}

function fetchOf(value: unknown, validator: OptionsValidator): typeof fetch {
  if (value === undefined) return globalThis.fetch;
  if (typeof value !== 'function')
    return validator.fail('fetch', value, `must be a fetch function, got ${typeOf(value)}`);
  return value as typeof fetch;
}
