import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type OnModuleInit,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { ResilienceConfigError } from '../../core/errors/resilience-config.error.js';
import { ResilientHandlers } from './resilient-handlers.js';

/**
 * Runs a handler's policies (`@Timeout`, `@Retry`, `@CircuitBreaker`, `@Bulkhead`, `@Fallback`) around
 * `next.handle()` on every transport: HTTP (Express, Fastify), microservices, WebSockets, GraphQL. The policy
 * decorators attach it (once per handler, however many they are); it composes with your own interceptors in Nest's
 * order (global, then class, then method). The pipeline was compiled at bootstrap: a request costs one Map read.
 */
@Injectable()
export class ResilienceInterceptor implements NestInterceptor, OnModuleInit {
  private handlers: ResilientHandlers | undefined;

  // Only ModuleRef: Nest instantiates this class in the module of every decorated class, imported or not.
  constructor(private readonly moduleRef: ModuleRef) {}

  /** Nest makes one in every module with a decorated class: without ResilienceModule, bootstrap fails here. */
  onModuleInit(): void {
    this.handlers = findHandlers(this.moduleRef);
  }

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
    throw new ResilienceConfigError(
      'nest-resilience decorators are used, but ResilienceModule is not imported: add ResilienceModule.forRoot() ' +
        'to the imports of your root module',
      'ResilienceModule',
    );
  }
}
