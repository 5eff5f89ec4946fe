import type { ExecutionContext } from '@nestjs/common';
import { httpRequest, httpResponse } from './http-arguments.js';

/**
 * The default last-known-good key of a handler marked `shared`: what identifies the request apart from who sends
 * it. HTTP: the method and the URL (path and query); messages and events: the payload; WebSockets: the message;
 * GraphQL: the field's arguments. `undefined` (nothing remembered or served) when the payload is not JSON.
 */
export function defaultHandlerKey(context: ExecutionContext): string | undefined {
  try {
    switch (context.getType<string>()) {
      case 'http': {
        const request = httpRequest<{ method?: string; originalUrl?: string; url?: string }>(context);
        return `${request.method ?? ''} ${request.originalUrl ?? request.url ?? ''}`;
      }
      case 'rpc':
        return JSON.stringify(context.switchToRpc().getData() ?? null);
      case 'ws':
        return JSON.stringify(context.switchToWs().getData() ?? null);
      case 'graphql':
        return JSON.stringify(context.getArgByIndex(1) ?? null);
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/**
 * Tells an HTTP client that the answer is a remembered one (RFC 9211 `Cache-Status`, and `Age` in seconds):
 * `Cache-Status: nest-resilience; hit; detail=stale-if-error`. Other transports learn it from the `fallback` event.
 */
export function markStale(context: ExecutionContext, ageMs: number): void {
  // A replayed dead letter runs the handler's policies with the letter's data, not a request: nothing to mark.
  if (typeof (context as Partial<ExecutionContext> | undefined)?.getType !== 'function') return;
  if (context.getType<string>() !== 'http') return;
  const response = httpResponse<{
    headersSent?: boolean;
    sent?: boolean;
    setHeader?: (name: string, value: string) => void;
    header?: (name: string, value: string) => void;
  }>(context);
  if (response.headersSent === true || response.sent === true) return;
  const set = (name: string, value: string): void => {
    // Express responses have setHeader; Fastify replies have header.
    if (typeof response.setHeader === 'function') response.setHeader(name, value);
    else response.header?.(name, value);
  };
  set('Cache-Status', 'nest-resilience; hit; detail=stale-if-error');
  set('Age', String(Math.floor(ageMs / 1000)));
}
