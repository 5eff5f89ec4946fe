import { randomUUID } from 'node:crypto';
import { CallAbortedError } from '../core/errors/call-aborted.error.js';
import { ResilienceError } from '../core/errors/resilience.error.js';
import { TimeoutError } from '../core/errors/timeout.error.js';
import type { ResilienceEvents } from '../core/events/resilience-events.js';
import { requestKeys } from '../core/idempotency/request-key.js';
import type { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import { HttpCall, runAttempt, type AnswerMode, type AttemptContext } from './http-call.js';
import { isRepeatable, isRetryableHttpFailure } from './http-classification.js';
import { HttpClientError, type HttpGiveUp } from './http-client.error.js';
import type { ResilientHttpClientOptions } from './http-client.options.js';
import type { HttpResponse } from './http-response.js';
import { OriginPipelines } from './origin-pipelines.js';
import { resolveHttpClientOptions, type ResolvedHttpClientOptions } from './resolve-http-options.js';
import type { HttpBody, HttpHeadersInit, HttpRequestOptions } from './http-request.options.js';
import { NO_HEADERS, plainHeadersOf } from './http-request-parts.js';
import { HttpUrls, type HttpTarget } from './http-url.js';
import { CallTimeout, CallTimeoutExpired } from './http-call-timeout.js';
import { HttpCallRun, type FailedCall } from './http-call-run.js';
import { Invocation } from '../core/pipeline/invocation.js';
import { runAbortable } from '../core/pipeline/caller-signal.js';

const NO_ARGS: readonly unknown[] = [];
/** The options of a call given none: one shared object, not an empty one per call. */
const NO_OPTIONS: HttpRequestOptions = Object.freeze({});
/** Node's own fetch (undici), as this module found it: a client using it aborts attempts through its dispatcher. */
const NODE_FETCH = globalThis.fetch;

/**
 * An HTTP client with the standard pipeline around Node's own `fetch`: total timeout, retry (honouring
 * `Retry-After`), optional hedging, a circuit breaker, rate limit and bulkhead per origin, attempt timeout, and
 * idempotency keys on the wire. Inject it with `@InjectHttpClient(name)` after `ResilientHttpModule.register`.
 *
 * `get/post/put/patch/delete` resolve with an {@link HttpResponse} for 2xx and 3xx and reject with an
 * {@link HttpClientError} otherwise; `fetch(input, init)` is a WHATWG `fetch` with the same pipeline, for SDKs that
 * take a custom fetch.
 */
export class ResilientHttpClient {
  /** The client's options, defaults applied. */
  readonly options: ResolvedHttpClientOptions;
  private readonly pipelines: OriginPipelines;
  private readonly context: AttemptContext;
  private readonly keyHeader: string;
  /** {@link keyHeader} lower-cased: its name in {@link plainHeaders} records. */
  private readonly keyName: string;
  /**
   * The client's headers with lower-cased names, checked once by `Headers`: what a call without headers of its own
   * starts from. A plain object fetch copies: a `Headers` per call costs more than some policies. `undefined` when
   * `Headers` rejects them (every call then throws its TypeError, as before).
   */
  private readonly plainHeaders: Readonly<Record<string, string>> | undefined;
  private readonly keyedMethods: ReadonlySet<string>;
  private readonly events: ResilienceEvents;
  private readonly urls: HttpUrls;
  /** {@link failedCall}, bound once: what a call with a total timeout hands its failure to. */
  private readonly failedCallOf: FailedCall;

  constructor(options: ResilientHttpClientOptions, registry: ResilienceRegistry, events: ResilienceEvents) {
    this.events = events;
    this.options = resolveHttpClientOptions(options, 'ResilientHttpModule.register');
    this.urls = new HttpUrls(this.options.name, this.options.baseUrl);
    this.pipelines = new OriginPipelines(this.options, registry, events, runAttempt);
    const { name, fetch, maxBodyExcerpt, idempotencyKey } = this.options;
    this.context = { client: name, fetch, nodeFetch: fetch === NODE_FETCH, events, maxBodyExcerpt };
    this.keyHeader = idempotencyKey?.header ?? 'Idempotency-Key';
    this.keyName = this.keyHeader.toLowerCase();
    this.plainHeaders = plainHeadersOf(this.options.headers);
    this.keyedMethods = new Set(idempotencyKey?.methods ?? []);
    // A WHATWG fetch is a plain function: SDKs call it detached (`const f = options.fetch; f(url)`).
    this.fetch = this.fetch.bind(this);
    this.failedCallOf = (error, call, policy) => this.failedCall(error, call, policy);
  }

  /** The client's name. */
  get name(): string {
    return this.options.name;
  }

  /** The origins with their own breaker, bulkhead and rate limit so far (`*`: the shared one past `maxOrigins`). */
  origins(): string[] {
    return this.pipelines.origins();
  }

  /** `GET path`. */
  get(path: string, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('GET', path, options);
  }

  /** `POST path`: gets an `Idempotency-Key` by default, and is then retried like an idempotent request. */
  post(path: string, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('POST', path, options);
  }

  /** `PUT path`. */
  put(path: string, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('PUT', path, options);
  }

  /** `PATCH path`: retried only with an idempotency key. */
  patch(path: string, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('PATCH', path, options);
  }

  /** `DELETE path`. */
  delete(path: string, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('DELETE', path, options);
  }

  /** A request with any method. */
  request(method: string, path: string, options: HttpRequestOptions = NO_OPTIONS): Promise<HttpResponse> {
    // Not `async`: a call is one async frame fewer; what building the request throws still rejects the call.
    try {
      const upper = method.toUpperCase();
      const url = this.urls.resolve(path, options.query);
      const json = options.json !== undefined;
      const body: HttpBody | undefined = json ? JSON.stringify(options.json) : options.body;
      const headers = this.headersOf(upper, url, options.headers, options.idempotencyKey, json);
      const keyed = this.carriesKey(headers);
      const repeatable = isRepeatable(upper, keyed) && !(body instanceof ReadableStream);
      // With Node's fetch, each attempt sets `dispatcher` (see HttpCall.init): the key is there from the start.
      const init: RequestInit = this.context.nodeFetch
        ? { method: upper, headers, body, dispatcher: undefined }
        : { method: upper, headers, body };
      if (options.timeout !== undefined) return this.runTimed(url, init, repeatable, options.signal, options.timeout);
      const call = this.callOf(url, upper, init, 'buffered', repeatable, options.signal);
      return this.run(call, options.signal) as Promise<HttpResponse>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A call with its own `timeout`: a signal that aborts at its deadline (and with the caller's, if any). */
  private async runTimed(
    url: HttpTarget,
    init: RequestInit,
    repeatable: boolean,
    given: AbortSignal | undefined,
    duration: unknown,
  ): Promise<HttpResponse> {
    const timeout = new CallTimeout(this.options.name, duration);
    const signal = given === undefined ? timeout.signal : AbortSignal.any([given, timeout.signal]);
    try {
      const call = this.callOf(url, init.method!, init, 'buffered', repeatable, signal);
      return (await this.run(call, signal)) as HttpResponse;
    } finally {
      timeout.clear();
    }
  }

  /**
   * A WHATWG `fetch` through the same pipeline: resolves with the `Response` as fetch does (a 404 included; after the
   * retries, the last 5xx answer), rejects with fetch's own `TypeError` on a network error, an `AbortError` when
   * `init.signal` aborts, or an {@link HttpClientError} when a policy gave up (timeout, open circuit, full bulkhead).
   * A relative URL is resolved against `baseUrl`.
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    if (input instanceof Request) return this.fetchRequest(input, init);
    // Not `async` (one async frame fewer); what building the request throws still rejects, as fetch's own errors.
    try {
      return this.fetchFrom(input instanceof URL ? input.href : String(input), init ?? {});
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `fetch` of a `Request`: its body is a stream, read once so that every attempt can send it again. */
  private async fetchRequest(input: Request, init: RequestInit | undefined): Promise<Response> {
    const body = input.body === null ? undefined : await input.arrayBuffer();
    const request: RequestInit = {
      method: input.method,
      headers: input.headers,
      body,
      signal: input.signal,
      redirect: input.redirect,
      credentials: input.credentials,
      referrer: input.referrer,
      referrerPolicy: input.referrerPolicy,
      integrity: input.integrity,
      keepalive: input.keepalive,
    };
    return this.fetchFrom(input.url, { ...request, ...init });
  }

  /** `fetch` of `target` with `merged` (the init, over a `Request`'s own): left as it is, the attempts copy it. */
  private fetchFrom(target: string, merged: RequestInit): Promise<Response> {
    const method = (merged.method ?? 'GET').toUpperCase();
    const url = this.urls.resolve(target, undefined);
    const headers = this.headersOf(method, url, merged.headers, undefined, false);
    const keyed = this.carriesKey(headers);
    const repeatable = isRepeatable(method, keyed) && !(merged.body instanceof ReadableStream);
    const signal = merged.signal ?? undefined;
    const init: RequestInit = this.context.nodeFetch
      ? { ...merged, method, headers, signal: undefined, dispatcher: merged.dispatcher }
      : { ...merged, method, headers, signal: undefined };
    const call = this.callOf(url, method, init, 'stream', repeatable, signal);
    return this.run(call, signal) as Promise<Response>;
  }

  private callOf(
    url: HttpTarget,
    method: string,
    init: RequestInit,
    mode: AnswerMode,
    repeatable: boolean,
    signal: AbortSignal | undefined,
  ): HttpCall {
    return new HttpCall(this.context, url.href, url.origin, url.pathname, method, init, mode, repeatable, signal);
  }

  private run(call: HttpCall, signal: AbortSignal | undefined): Promise<unknown> {
    const pipeline = this.pipelines.for(call.origin);
    const invocation = new Invocation(pipeline.target, call, NO_ARGS);
    const { total } = pipeline;
    let timed: HttpCallRun | undefined;
    if (total !== undefined) {
      timed = new HttpCallRun(call, invocation, total, pipeline.name, this.failedCallOf);
      timed.arm();
    }
    let running: Promise<unknown>;
    try {
      const step = call.repeatable ? pipeline.repeatable : pipeline.once;
      running = signal === undefined ? step(invocation) : runAbortable(step, invocation, signal);
    } catch (error) {
      running = Promise.reject(error);
    }
    if (timed !== undefined) return timed.outcomeOf(running);
    const failed = (error: unknown) => this.failedCall(error, call, pipeline.name);
    // Otherwise a success holds no failed answer (each attempt let go of the previous one's): no step of its own,
    // unless hedged attempts ran side by side (a loser may still hold one when the winner answers).
    if (this.options.hedge === undefined) return running.then(undefined, failed);
    return running.then((value) => {
      if (call.holdsAnswer) void call.discard();
      return value;
    }, failed);
  }

  /** What the caller gets of a failed call: the last failed answer (`fetch`), else the error (see {@link givenUp}). */
  private failedCall(error: unknown, call: HttpCall, policy: string): unknown {
    try {
      if (call.mode === 'stream' && error instanceof HttpClientError && error.code === 'HTTP_STATUS') {
        const response = call.takeFailedResponse();
        if (response !== undefined) {
          this.reportGiveUp(this.finished(error, call));
          return response;
        }
      }
      throw this.givenUp(error, call, policy);
    } finally {
      if (call.holdsAnswer) void call.discard();
    }
  }

  /** An attempt's error as the call's: the attempts made, and whether the retries ran out. */
  private finished(error: HttpClientError, call: HttpCall): HttpClientError {
    error.attempts = call.attempts;
    error.gaveUp = this.retried(call, error) ? 'retry' : 'not-retried';
    return error;
  }

  /** The `http-give-up` event of a failed call (failures only: a happy call builds nothing). */
  private reportGiveUp(error: HttpClientError): void {
    const { client, origin, method, path, status, attempts, code, gaveUp } = error;
    this.events.emit({
      type: 'http-give-up',
      policy: client,
      target: { className: 'ResilientHttpClient', methodName: `${client} ${origin}` },
      client,
      origin,
      method,
      path,
      status,
      attempts,
      code,
      gaveUp,
    });
  }

  /** The error the caller gets: an {@link HttpClientError} saying which policy gave up, or the caller's abort. */
  private givenUp(error: unknown, call: HttpCall, policy: string): unknown {
    if (error instanceof HttpClientError) {
      this.reportGiveUp(this.finished(error, call));
      // A WHATWG fetch rejects a network error with its own TypeError, which SDKs recognise.
      if (call.mode === 'stream' && error.code === 'NETWORK_ERROR' && error.cause !== undefined) return error.cause;
      return error;
    }
    const given = this.policyGaveUp(error, call, policy);
    if (given instanceof HttpClientError) this.reportGiveUp(given);
    return given;
  }

  /** A policy's error (timeout, open circuit, full bulkhead, rate limit) as an {@link HttpClientError}. */
  private policyGaveUp(error: unknown, call: HttpCall, policy: string): unknown {
    const request = {
      client: this.options.name,
      method: call.method,
      origin: call.origin,
      path: call.path,
      attempts: call.attempts,
    };
    if (error instanceof CallAbortedError && error.cause instanceof CallTimeoutExpired) {
      return new HttpClientError({ ...request, code: 'TIMEOUT', gaveUp: 'call-timeout', policy, cause: error.cause });
    }
    if (error instanceof TimeoutError) {
      const gaveUp: HttpGiveUp =
        error.scope === 'total' ? 'total-timeout' : this.retried(call, error) ? 'retry' : 'attempt-timeout';
      return new HttpClientError({ ...request, code: 'TIMEOUT', gaveUp, policy, cause: error });
    }
    if (error instanceof ResilienceError) {
      const gaveUp = GAVE_UP_BY_CODE[error.code];
      if (gaveUp !== undefined) {
        const code = error.code as 'BROKEN_CIRCUIT' | 'BULKHEAD_REJECTED' | 'RATE_LIMIT_EXCEEDED';
        return new HttpClientError({ ...request, code, gaveUp, policy, cause: error });
      }
    }
    return error;
  }

  /** Whether the call ended because its retries ran out (a repeatable request, a retryable failure). */
  private retried(call: HttpCall, error: unknown): boolean {
    const retry = this.options.retry;
    if (retry === undefined || !call.repeatable) return false;
    return (retry.retryIf ?? isRetryableHttpFailure)(error, call.attempts);
  }

  /**
   * The headers of a call: the client's, the call's over them, `Content-Type` for a JSON body, the idempotency key.
   * A plain object (or none) when the call brings no headers nor key of its own, else a `Headers`, which checks them.
   */
  private headersOf(
    method: string,
    url: HttpTarget,
    given: HttpHeadersInit | undefined,
    key: string | false | undefined,
    json: boolean,
  ): Headers | Record<string, string> | undefined {
    const plain = this.plainHeaders;
    if (given !== undefined || typeof key === 'string' || plain === undefined) {
      const headers = new Headers(this.options.headers);
      if (given !== undefined) new Headers(given).forEach((value, name) => headers.set(name, value));
      if (json && !headers.has('content-type')) headers.set('content-type', 'application/json');
      this.applyIdempotencyKey(method, url, headers, key);
      return headers;
    }
    const name = this.keyName;
    const newKey = key === undefined && plain[name] === undefined && this.keyedMethods.has(method);
    const removeKey = key === false && plain[name] !== undefined;
    const contentType = json && plain['content-type'] === undefined;
    if (!newKey && !removeKey && !contentType) return plain === NO_HEADERS ? undefined : plain;
    const headers: Record<string, string> = {};
    for (const header in plain) if (header !== name || !removeKey) headers[header] = plain[header];
    if (contentType) headers['content-type'] = 'application/json';
    if (newKey) headers[name] = this.newKey(method, url);
    return headers;
  }

  /** Whether headers made by {@link headersOf} carry an idempotency key. */
  private carriesKey(headers: Headers | Record<string, string> | undefined): boolean {
    if (headers === undefined) return false;
    return headers instanceof Headers ? headers.has(this.keyHeader) : headers[this.keyName] !== undefined;
  }

  /**
   * Sets the idempotency key of a call: the call's own, the header it already has, or one made for the methods of
   * `idempotencyKey.methods`. True when the request carries one.
   */
  private applyIdempotencyKey(
    method: string,
    url: HttpTarget,
    headers: Headers,
    key: string | false | undefined,
  ): boolean {
    const header = this.keyHeader;
    if (key === false) {
      headers.delete(header);
      return false;
    }
    if (key !== undefined) {
      if (typeof key !== 'string' || key === '') {
        throw new TypeError(`HTTP client "${this.options.name}": idempotencyKey must be a non-empty string or false`);
      }
      headers.set(header, key);
      return true;
    }
    if (headers.has(header)) return true;
    if (!this.keyedMethods.has(method)) return false;
    headers.set(header, this.newKey(method, url));
    return true;
  }

  /**
   * A key for one call: inside a keyed `@Idempotent` handler, derived from the inbound request's key (the same
   * derivation as `getIdempotencyKey()`: the client's retry of the inbound request sends the same keys again);
   * otherwise random.
   */
  private newKey(method: string, url: HttpTarget): string {
    const scope = requestKeys.getStore();
    if (scope === undefined) return randomUUID();
    return scope.nextCallKey(`http ${this.options.name} ${method} ${url.origin}${url.pathname}`);
  }
}

const GAVE_UP_BY_CODE: Partial<Record<ResilienceError['code'], HttpGiveUp>> = {
  BROKEN_CIRCUIT: 'circuit-breaker',
  BULKHEAD_REJECTED: 'bulkhead',
  RATE_LIMIT_EXCEEDED: 'rate-limit',
};
