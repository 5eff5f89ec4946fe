import type { CircuitBreakerOptions } from '../core/circuit-breaker/circuit-breaker.options.js';
import type { BulkheadOptions } from '../core/bulkhead/bulkhead.options.js';
import type { HedgeOptions } from '../core/hedge/hedge.options.js';
import type { RateLimitOptions } from '../core/rate-limit/rate-limit.options.js';
import type { RetryOptions } from '../core/retry/retry.options.js';

/**
 * Retry of an HTTP client: `@Retry`'s options. `maxAttempts` counts the first attempt (the default `4` is one call and
 * three retries, as .NET's `MaxRetryAttempts = 3`); `maxDelay` also caps a `Retry-After` the upstream asks for.
 * `retryIf(error, attempt)` replaces the default rule (network errors, attempt timeouts, 408, 429, 500, 502, 503,
 * 504); only repeatable requests are ever retried, whatever it answers.
 */
export type HttpRetryOptions = Pick<
  RetryOptions,
  'maxAttempts' | 'backoff' | 'initialDelay' | 'maxDelay' | 'multiplier' | 'jitter' | 'retryIf'
>;

/** Circuit breaker of an HTTP client, one per origin: `@CircuitBreaker`'s options. */
export type HttpCircuitBreakerOptions = Omit<CircuitBreakerOptions, 'coordination'>;

/** Bulkhead of an HTTP client, one per origin: concurrent requests and queue (`@Bulkhead`'s options). */
export type HttpBulkheadOptions = Pick<BulkheadOptions, 'maxConcurrent' | 'maxQueue' | 'maxWait'>;

/** Rate limit of an HTTP client, one bucket per origin: an outbound quota (`@RateLimit`'s options). */
export type HttpRateLimitOptions = Pick<RateLimitOptions, 'burst' | 'maxWait'> & {
  /** Requests allowed per `interval`. */
  limit: number;
  /** The interval in milliseconds. */
  interval: number;
};

/** Hedging of an HTTP client (opt-in): `@Hedge`'s `maxHedges` and `delay`. */
export type HttpHedgeOptions = Pick<HedgeOptions, 'maxHedges' | 'delay'>;

/** `Idempotency-Key` on the wire. */
export interface HttpIdempotencyKeyOptions {
  /** The header's name. Default `'Idempotency-Key'`. */
  header: string;
  /**
   * The methods that get a key when the call gives none: `POST`, `PATCH`, or both. Default `['POST']`. A call can
   * always send one (`idempotencyKey: '...'`, or the header itself), or refuse it (`idempotencyKey: false`).
   */
  methods: readonly ('POST' | 'PATCH')[];
}

/**
 * Options of one client: `ResilientHttpModule.register({ name, baseUrl, ...policies })`. Every policy has a default
 * close to .NET's `AddStandardResilienceHandler()` (docs/http-client.md); give options to change some of its fields,
 * or `false` to leave the stage out. Circuit breaker, bulkhead and rate limit are kept per origin of the URL.
 */
export interface ResilientHttpClientOptions {
  /** The client's name: `@InjectHttpClient(name)`, events, registry entries (`<name> <origin>`). Required. */
  name: string;
  /** Prepended to relative paths (`'/charges'`). Default: none (every URL must then be absolute). */
  baseUrl?: string | URL;
  /** Headers sent with every request (a call's own headers win). Default: none. */
  headers?: Readonly<Record<string, string>>;
  /** Budget of a whole call, retries and backoff included, in ms; `false`: none. Default `30_000`. */
  totalTimeout?: number | false;
  /**
   * Budget of one attempt, the response body included (for `get`, `post`, ...), in ms; `false`: none.
   * Default `10_000`.
   */
  attemptTimeout?: number | false;
  /**
   * Retries of repeatable requests. Default `{ maxAttempts: 4, backoff: 'exponential', initialDelay: 2000,
   * maxDelay: 30_000, multiplier: 2, jitter: 'equal' }`; `false`: none.
   */
  retry?: Partial<HttpRetryOptions> | false;
  /**
   * One breaker per origin. Default `{ window: 'time', windowSize: 30, minimumCalls: 100, failureRateThreshold: 10,
   * openDuration: 5000 }` (other fields as `@CircuitBreaker`'s), recording network errors, timeouts, 408, 429 and
   * 5xx (`recordIf` replaces that); `false`: none.
   */
  circuitBreaker?: Partial<HttpCircuitBreakerOptions> | false;
  /** One bulkhead per origin. Default `{ maxConcurrent: 1000, maxQueue: 0 }`; `false`: none. */
  bulkhead?: Partial<HttpBulkheadOptions> | false;
  /** One token bucket per origin (`{ limit, interval }`). Default `false`: none. */
  rateLimit?: Partial<HttpRateLimitOptions> | false;
  /**
   * Hedging of repeatable requests: another attempt after `delay` ms without an answer, the first answer wins and the
   * others are aborted. Default `false`; `true` or options: `{ maxHedges: 1, delay: 2000 }`.
   */
  hedge?: Partial<HttpHedgeOptions> | boolean;
  /**
   * `Idempotency-Key` on the wire. Default `{ header: 'Idempotency-Key', methods: ['POST'] }`; `false`: never added
   * (a call may still give one).
   */
  idempotencyKey?: Partial<HttpIdempotencyKeyOptions> | false;
  /**
   * Origins with their own breaker, bulkhead and rate limit; further origins share one set, named `<name> *`.
   * Bounds the registry and the metrics' labels. At most 10,000. Default `32`.
   */
  maxOrigins?: number;
  /** Characters of a failed answer's body kept in `HttpClientError.bodyExcerpt`, at most 1,000,000. Default `1024`. */
  maxBodyExcerpt?: number;
  /** The `fetch` to call. Default: Node's own (`globalThis.fetch`, undici). */
  fetch?: typeof fetch;
}
