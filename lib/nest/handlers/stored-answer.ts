import { HttpException, type ExecutionContext } from '@nestjs/common';
import { ResilienceError } from '../../core/errors/resilience.error.js';
import type { IdempotencyOptions } from '../../core/idempotency/idempotency.options.js';
import { httpRequest } from '../request/http-arguments.js';

// What a keyed request keeps of its handler's answer: read from the response, the errors worth keeping, and the
// text the store holds. The request flow that decides when to keep it is `idempotent-request.ts`.

/** An answer as stored: status, body, the safe headers, and whether it was an error (replayed as an exception). */
export interface StoredAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  readonly error?: true;
}

/** Headers stored with an answer and replayed; never `Set-Cookie` or anything else about the session. */
const SAFE_HEADERS = ['content-type', 'location', 'etag'] as const;

/** What an Express response and a Fastify reply both offer. */
export interface HttpResponse {
  statusCode: number;
  getHeader(name: string): unknown;
  /** Express (Node's `ServerResponse`). */
  headersSent?: boolean;
  /** Fastify's reply. */
  sent?: boolean;
  /** Fastify's reply: Node's `ServerResponse`. */
  raw?: unknown;
}

/** The error as a stored answer, or `undefined` when it is not stored (5xx and our own rejections by default). */
export function storableError(error: unknown, replay: IdempotencyOptions['replay']): StoredAnswer | undefined {
  const all = replay === 'all';
  if (!(error instanceof HttpException)) {
    return all ? { status: 500, body: { statusCode: 500, message: 'Internal server error' }, error: true } : undefined;
  }
  const status = error.getStatus();
  const ours = error.cause instanceof ResilienceError || error instanceof ResilienceError;
  if (!all && (status >= 500 || ours)) return undefined;
  return { status, body: error.getResponse(), error: true };
}

/**
 * Whether the handler answered through the response object itself: it returned it (`return res`, `return reply`),
 * or the response was already sent when its work ended (`res.json(...)` through `@Res({ passthrough: true })`).
 */
export function answeredThroughResponse(response: HttpResponse, body: unknown): boolean {
  if (body !== undefined && body !== null && (body === response || body === response.raw)) return true;
  return response.headersSent === true || response.sent === true;
}

/**
 * The marker Nest 12 sets on a request whose pipes refused it, so that its handler never ran: a registered
 * symbol, read without importing `@nestjs/core`'s internals (`isRejectedByPipes` reads the same).
 */
const REJECTED_BY_PIPES = Symbol.for('nestjs:rejected-by-pipes');

export function rejectedByPipes(context: ExecutionContext): boolean {
  const request = httpRequest<Record<symbol, unknown> | undefined>(context);
  return request?.[REJECTED_BY_PIPES] === true;
}

/** The safe headers of the response as they are now, `undefined` when it has none. */
export function safeHeaders(response: HttpResponse): Record<string, string> | undefined {
  let headers: Record<string, string> | undefined;
  for (const name of SAFE_HEADERS) {
    const value = response.getHeader(name) as string | number | string[] | undefined;
    if (value === undefined) continue;
    (headers ??= {})[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return headers;
}

/**
 * `JSON.stringify(answer)`, the same text (stores hold it across versions), written around the body's own
 * serialization: the wrapper object cost as much as the body again.
 */
export function serializeAnswer(answer: StoredAnswer): string {
  const body = JSON.stringify(answer.body) as string | undefined;
  const { status } = answer;
  let text = `{"status":${Number.isInteger(status) ? `${status}` : JSON.stringify(status)}`;
  if (body !== undefined) text += `,"body":${body}`;
  if (answer.headers !== undefined) text += `,"headers":${JSON.stringify(answer.headers)}`;
  if (answer.error !== undefined) text += ',"error":true';
  return `${text}}`;
}
