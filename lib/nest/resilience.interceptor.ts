import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { ResilientHandlers } from './resilient-handlers.js';

/**
 * Runs a handler's policies (`@Timeout`, `@Retry`, `@CircuitBreaker`, `@Bulkhead`, `@Fallback`) around
 * `next.handle()` on every transport: HTTP (Express, Fastify), microservices, WebSockets, GraphQL. The policy
 * decorators attach it (once per handler, however many they are); it composes with your own interceptors in Nest's
 * order (global, then class, then method). The pipeline was compiled at bootstrap: a request costs one Map read.
 */
@Injectable()
export class ResilienceInterceptor implements NestInterceptor {
  private handlers: ResilientHandlers | undefined;

  // Only ModuleRef: Nest instantiates this class in the module of every decorated class, imported or not.
  constructor(private readonly moduleRef: ModuleRef) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const pipeline = (this.handlers ??= findHandlers(this.moduleRef)).pipeline(context);
    return pipeline === undefined ? next.handle() : pipeline.run(context, next);
  }
}

/** The application's compiled handlers; a clear error when `ResilienceModule` is not imported. */
export function findHandlers(moduleRef: ModuleRef): ResilientHandlers {
  try {
    return moduleRef.get(ResilientHandlers, { strict: false });
  } catch {
    throw new Error(
      'nest-resilience decorators are used, but ResilienceModule is not imported: add ResilienceModule.forRoot() ' +
        'to the imports of your root module',
    );
  }
}
