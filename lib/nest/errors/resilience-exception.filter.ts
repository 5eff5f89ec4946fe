import { Catch, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { throwError, type Observable } from 'rxjs';
import { ResilienceError } from '../../core/errors/resilience.error.js';
import { toHttpAnswer } from './http-error.mapper.js';
import { errorPayload, GraphQLResilienceError, wsErrorPayload } from './transport-errors.js';

/**
 * Answers resilience errors that reach Nest's exception layer unmapped: those thrown by a decorated service inside
 * an undecorated handler (decorated handlers map their errors in the `ResilienceInterceptor`, so your own filters
 * see Nest's standard exceptions). Registered globally by `ResilienceModule`. HTTP: 504 for a timeout, 503 for an
 * open circuit or a full bulkhead, 429 for a rate limit, with `Retry-After` when known and a JSON body naming the
 * policy. RPC: the client receives `{ status, message, code, policy, retryAfter? }`; WebSocket: an `exception` event
 * with the same payload and the message it answers (`cause`), and the acknowledgement when one was asked for;
 * GraphQL: an error with `extensions.code`. Costs nothing on requests that succeed.
 */
@Catch(ResilienceError)
export class ResilienceExceptionFilter extends BaseExceptionFilter {
  override catch(error: ResilienceError, host: ArgumentsHost): unknown {
    switch (host.getType<string>()) {
      case 'http':
        return this.answerHttp(error, host);
      case 'rpc':
        return throwError(() => errorPayload(error));
      case 'ws': {
        const client = host.switchToWs().getClient<{ emit?: (event: string, payload: unknown) => unknown }>();
        client.emit?.('exception', wsErrorPayload(error, host));
        return undefined;
      }
      case 'graphql':
        return new GraphQLResilienceError(error);
      default:
        throw error;
    }
  }

  private answerHttp(error: ResilienceError, host: ArgumentsHost): void | Observable<never> {
    const answer = toHttpAnswer(error);
    if (answer === undefined) return super.catch(error, host);
    const adapter = this.httpAdapterHost?.httpAdapter;
    const response: unknown = host.switchToHttp().getResponse();
    if (adapter === undefined || adapter.isHeadersSent(response)) return super.catch(error, host);
    if (answer.retryAfterSeconds !== undefined) {
      adapter.setHeader(response, 'Retry-After', String(answer.retryAfterSeconds));
    }
    if (answer.contentType !== undefined) adapter.setHeader(response, 'Content-Type', answer.contentType);
    adapter.reply(response, answer.exception.getResponse(), answer.exception.getStatus());
  }
}
