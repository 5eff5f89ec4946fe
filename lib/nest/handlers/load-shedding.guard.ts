import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import type { LoadShedderState } from '../../core/load-shedding/load-shedder.state.js';
import type { RequestPriority } from '../../core/load-shedding/load-shedding.options.js';
import { PRIORITY_METADATA, SKIP_LOAD_SHEDDING_METADATA } from '../../decorators/resilience.metadata.js';
import { toTransportError } from '../errors/transport-errors.js';
import { declaredRoutes, isPathBelow } from './declared-routes.js';
import { httpRequest } from '../request/http-arguments.js';
import type { PipelineFactory } from '../pipeline/pipeline.factory.js';

/** A handler's priority, or `exempt` when it is never shed. */
type HandlerPriority = RequestPriority | 'exempt';

/**
 * Refuses requests early while the process is overloaded (module option `loadShedding`), before interceptors,
 * pipes and the handler, on every transport. Registered globally by the module only when the option is on; while
 * the process is healthy a request costs one property read here. HTTP answers 503 with `Retry-After` and a JSON body
 * naming the reason; RPC, WebSocket and GraphQL clients get the code `LOAD_SHED`.
 */
export class LoadSheddingGuard implements CanActivate {
  /** Per handler function: bounded by the number of handlers. */
  private readonly priorities = new Map<object, HandlerPriority>();
  private readonly exemptPaths: readonly string[];

  constructor(
    private readonly shedder: LoadShedderState,
    private readonly adapterHost: HttpAdapterHost,
    /** Names the refused handler in events as everywhere else (same-named classes told apart). */
    private readonly pipelines: Pick<PipelineFactory, 'targetOf'>,
  ) {
    this.exemptPaths = shedder.options.exemptPaths;
  }

  canActivate(context: ExecutionContext): boolean {
    // Healthy: nothing else to do.
    if (!this.shedder.shedding) return true;
    return this.underPressure(context);
  }

  private underPressure(context: ExecutionContext): boolean {
    const priority = this.priorityOf(context);
    if (priority === 'exempt' || this.isExemptPath(context)) return true;
    const handler = context.getHandler();
    const target = this.pipelines.targetOf(context.getClass(), handler.name);
    const refusal = this.shedder.shed(priority, target);
    if (refusal === undefined) return true;
    throw toTransportError(refusal, context, this.adapterHost);
  }

  private priorityOf(context: ExecutionContext): HandlerPriority {
    const handler = context.getHandler();
    let priority = this.priorities.get(handler);
    if (priority === undefined) {
      const classRef = context.getClass();
      priority = readPriority(handler, classRef);
      // `/health` exempts the route declared at `/health` under any global prefix (`/api/health`), once per handler.
      const exemptRoute =
        context.getType() === 'http' &&
        declaredRoutes(handler, classRef).some((route) => isPathBelow(route, this.exemptPaths));
      if (exemptRoute) priority = 'exempt';
      this.priorities.set(handler, priority);
    }
    return priority;
  }

  private isExemptPath(context: ExecutionContext): boolean {
    if (context.getType() !== 'http' || this.exemptPaths.length === 0) return false;
    const url = httpRequest<{ url?: string }>(context).url ?? '';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    return isPathBelow(path, this.exemptPaths);
  }
}

/** The handler's own marks win over its class's. */
function readPriority(handler: object, classRef: object): HandlerPriority {
  for (const target of [handler, classRef]) {
    if (Reflect.getMetadata(SKIP_LOAD_SHEDDING_METADATA, target) === true) return 'exempt';
    const priority = Reflect.getMetadata(PRIORITY_METADATA, target) as RequestPriority | undefined;
    if (priority !== undefined) return priority;
  }
  return 'normal';
}
