/*
 * nest-resilience/http: an HTTP client with the standard resilience pipeline around Node's own fetch.
 * An explicit list: every runtime export is documented in docs/reference.md ("Exports").
 */
export { ResilientHttpModule, InjectHttpClient, getHttpClientToken } from './resilient-http.module.js';
export type { ResilientHttpModuleAsyncOptions } from './resilient-http.module.js';
export { ResilientHttpClient } from './resilient-http.client.js';
export type { HttpQuery, HttpRequestOptions } from './http-request.options.js';
export { HttpResponse } from './http-response.js';
export { HttpClientError } from './http-client.error.js';
export type { HttpClientErrorCode, HttpGiveUp } from './http-client.error.js';
export { DEFAULT_HTTP_CLIENT_OPTIONS } from './resolve-http-options.js';
export type { ResolvedHttpClientOptions } from './resolve-http-options.js';
export type {
  HttpBulkheadOptions,
  HttpCircuitBreakerOptions,
  HttpHedgeOptions,
  HttpIdempotencyKeyOptions,
  HttpRateLimitOptions,
  HttpRetryOptions,
  ResilientHttpClientOptions,
} from './http-client.options.js';
export { isRetryableHttpFailure, isTransientHttpFailure } from './http-classification.js';
export type { HttpAttemptEvent, HttpGiveUpEvent } from '../core/events/resilience-event.interface.js';
