import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { catchError, throwError, type Observable } from 'rxjs';
import { Invocation } from '../core/pipeline/invocation.js';
import { ControllerPipelines } from './controller-pipelines.js';
import { toHttpAnswer } from './http-error.mapper.js';
import { INVOCATION_ON_REQUEST } from './resilience.constants.js';

/** HTTP methods that may be repeated without changing the result beyond the first call (RFC 9110, 9.2.2). */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/**
 * Runs decorated controller handlers through their policies (registered globally by `ResilienceModule`), and
 * turns resilience errors into HTTP answers (504, 503, 429 with `Retry-After`) for every HTTP handler, so an
 * error thrown by a decorated service also reaches the client as the right status.
 */
@Injectable()
export class ResilienceInterceptor implements NestInterceptor {
  constructor(
    private readonly pipelines: ControllerPipelines,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const isHttp = context.getType() === 'http';
    const pipeline = this.pipelines.get(context.getHandler());
    let result: Observable<unknown>;
    if (pipeline === undefined) {
      result = next.handle();
    } else {
      const invocation = new Invocation(pipeline.target, pipeline.instance, context.getArgs());
      invocation.source = next.handle();
      let step = pipeline.all;
      if (isHttp) {
        const request = context.switchToHttp().getRequest<{ method: string } & Record<symbol, unknown>>();
        request[INVOCATION_ON_REQUEST] = invocation;
        if (!IDEMPOTENT_METHODS.has(request.method)) step = pipeline.nonIdempotent;
      }
      result = step(invocation);
    }
    return isHttp ? result.pipe(catchError((error: unknown) => this.answer(error, context))) : result;
  }

  private answer(error: unknown, context: ExecutionContext): Observable<never> {
    const answer = toHttpAnswer(error);
    if (answer === undefined) return throwError(() => error);
    if (answer.retryAfterSeconds !== undefined) {
      const response: unknown = context.switchToHttp().getResponse();
      this.adapterHost.httpAdapter.setHeader(response, 'Retry-After', String(answer.retryAfterSeconds));
    }
    return throwError(() => answer.exception);
  }
}
