import { Catch, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { throwError, type Observable } from 'rxjs';
import { ResilienceError } from '../core/errors/resilience.error.js';
import { toHttpAnswer } from './http-error.mapper.js';

/**
 * Answers resilience errors over HTTP (registered globally by `ResilienceModule`): 504 for a timeout, 503 for an
 * open circuit or a full bulkhead, 429 for a rate limit, with `Retry-After` when known and a JSON body naming the
 * policy. Whoever threw it, a decorated handler or a decorated service called by any handler. A filter costs
 * nothing on requests that succeed. Other transports get the error unchanged.
 */
@Catch(ResilienceError)
export class ResilienceExceptionFilter extends BaseExceptionFilter {
  override catch(error: ResilienceError, host: ArgumentsHost): void | Observable<never> {
    const type = host.getType<string>();
    if (type === 'rpc') return throwError(() => error);
    if (type !== 'http') throw error;
    const answer = toHttpAnswer(error);
    if (answer === undefined) return super.catch(error, host);
    const adapter = this.httpAdapterHost?.httpAdapter;
    const response: unknown = host.switchToHttp().getResponse();
    if (adapter === undefined || adapter.isHeadersSent(response)) return super.catch(error, host);
    if (answer.retryAfterSeconds !== undefined) {
      adapter.setHeader(response, 'Retry-After', String(answer.retryAfterSeconds));
    }
    adapter.reply(response, answer.exception.getResponse(), answer.exception.getStatus());
  }
}
