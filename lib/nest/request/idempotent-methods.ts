import { RequestMethod } from '@nestjs/common';

/**
 * HTTP methods that may be repeated without changing the result beyond the first call (RFC 9110, 9.2.2): the one
 * list `@Retry` (per request) and `@Hedge` (per route, at bootstrap) read.
 */
export const IDEMPOTENT_HTTP_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'OPTIONS',
  'PUT',
  'DELETE',
  'SEARCH',
  'TRACE',
]);

/** Whether every request of a route declared with `method` (`@Get()`, `@Post()`, `@All()` ...) may run twice. */
export function isIdempotentRoute(method: RequestMethod): boolean {
  return IDEMPOTENT_HTTP_METHODS.has(RequestMethod[method]);
}

/**
 * Whether `handler` is an HTTP route whose every request may run twice (`@Get()`, `@Put()`, `@Delete()` ...): known at
 * bootstrap, so its requests need no per-request check. False for `@Post()`, `@Patch()`, `@All()` and non-routes.
 */
export function isIdempotentHttpRoute(handler: object): boolean {
  const method = Reflect.getMetadata(ROUTE_METHOD, handler) as RequestMethod | undefined;
  return method !== undefined && isIdempotentRoute(method);
}

/** `METHOD_METADATA` of @nestjs/common (`@Get()`, `@Post()` ... write it on the handler). */
const ROUTE_METHOD = 'method';
