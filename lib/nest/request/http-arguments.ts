import type { ExecutionContext } from '@nestjs/common';

/*
 * The request and response of an HTTP call, read straight from the handler's arguments. Nest's
 * `context.switchToHttp()` builds three closures on every call; these run on every request of a decorated handler.
 */

/** The platform's request object (Express `Request`, Fastify `FastifyRequest`) of an HTTP execution context. */
export function httpRequest<T>(context: ExecutionContext): T {
  return context.getArgByIndex<T>(0);
}

/** The platform's response object (Express `Response`, Fastify `FastifyReply`) of an HTTP execution context. */
export function httpResponse<T>(context: ExecutionContext): T {
  return context.getArgByIndex<T>(1);
}
