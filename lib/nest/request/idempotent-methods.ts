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
