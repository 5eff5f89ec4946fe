import { ResilienceConfigError } from '../../core/errors/resilience-config.error.js';

/*
 * Nest's route-argument metadata, read by name: `@nestjs/common` exports these only from its internal entry point.
 * `@Res()`/`@Response()` record a `"1:<index>"` entry, `@Next()` a `"2:<index>"` one (RouteParamtypes 1 and 2), on
 * the class and the method name; `@Res({ passthrough: true })` also sets the passthrough flag there.
 */
const ROUTE_ARGS_METADATA = '__routeArguments__';
const RESPONSE_PASSTHROUGH_METADATA = '__responsePassthrough__';
const RESPONSE = '1';
const NEXT = '2';
/** `@Post()`, `@Get()` ... record the route's `RequestMethod` under this key on the handler. */
const ROUTE_METHOD_METADATA = 'method';

/**
 * Refuses, at bootstrap, an `@Idempotent` handler that answers through the platform's response object (`@Res()` or
 * `@Next()` without `passthrough`): Nest then sends nothing of what the handler returns, so there is no answer to
 * store, and a replay would write nothing and leave the client waiting.
 */
export function refuseResponseObjectHandler(
  handler: object,
  classRef: object,
  methodName: string,
  policy: string,
): void {
  // HTTP routes only (they carry a request method): other transports number their parameter kinds otherwise.
  if (Reflect.getMetadata(ROUTE_METHOD_METADATA, handler) === undefined) return;
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, classRef, methodName) as Record<string, unknown> | undefined;
  if (args === undefined) return;
  const kinds = Object.keys(args).map((key) => key.split(':')[0]);
  const decorator = kinds.includes(RESPONSE) ? '@Res()' : kinds.includes(NEXT) ? '@Next()' : undefined;
  if (decorator === undefined) return;
  if (Reflect.getMetadata(RESPONSE_PASSTHROUGH_METADATA, classRef, methodName) === true) return;
  throw new ResilienceConfigError(
    `@Idempotent on ${policy}: the handler answers through ${decorator} without passthrough, so Nest sends nothing ` +
      'it returns and there is no answer to store and replay; return the body instead (use ' +
      '@Res({ passthrough: true }) to set headers or the status)',
    policy,
  );
}
