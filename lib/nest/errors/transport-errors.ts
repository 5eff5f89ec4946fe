import { IntrinsicException, Logger, type ArgumentsHost, type ExecutionContext } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { ResilienceError } from '../../core/errors/resilience.error.js';
import { LoadShedError } from '../../core/errors/load-shed.error.js';
import { retryAfterSeconds, toHttpAnswer } from './http-error.mapper.js';

/** What an RPC client or a WebSocket client receives for a resilience error (and GraphQL's `extensions`). */
export interface ResilienceErrorPayload {
  readonly status: 'error';
  readonly message: string;
  /** The error's stable code, e.g. `TIMEOUT`. */
  readonly code: string;
  /** The policy that gave up, e.g. `payments` or `Class.method`. */
  readonly policy: string;
  /** Seconds after which a retry may succeed, when known (open circuit, rate limit). */
  readonly retryAfter?: number;
  /** Why an overloaded process shed the request (`LOAD_SHED`): `event-loop-delay`, `event-loop-utilization`, `heap`. */
  readonly reason?: string;
}

/** What a WebSocket client receives: the payload, and the message it answers (as Nest's `cause` for its errors). */
export interface WsResilienceErrorPayload extends ResilienceErrorPayload {
  /** The refused message: its event name and the data the client sent. */
  readonly cause: { readonly pattern: string; readonly data: unknown };
}

type ExceptionClass = new (payload: object) => Error;

/**
 * Nest's own exception classes of the optional transports, loaded once at bootstrap when their packages are
 * installed: the RPC and WebSocket exception filters answer with a client-readable payload only for their own
 * classes, and a static import would make HTTP-only apps install microservices and websockets.
 */
const transportExceptions: { rpc?: ExceptionClass; ws?: ExceptionClass } = {};
let loading: Promise<void> | undefined;

/** Loads `RpcException` and `WsException` where their packages are installed; resolves either way. */
export function loadTransportExceptions(): Promise<void> {
  loading ??= Promise.all([
    import('@nestjs/microservices').then(
      (module) => (transportExceptions.rpc = module.RpcException),
      () => undefined,
    ),
    import('@nestjs/websockets').then(
      (module) => (transportExceptions.ws = module.WsException),
      () => undefined,
    ),
  ]).then(() => undefined);
  return loading;
}

/** The payload of `error` for RPC, WebSocket and GraphQL clients. */
export function errorPayload(error: ResilienceError): ResilienceErrorPayload {
  const retryAfter = retryAfterSeconds(error, Date.now());
  const payload = { status: 'error' as const, message: error.message, code: error.code, policy: error.policy };
  const withReason = error instanceof LoadShedError ? { ...payload, reason: error.reason } : payload;
  return retryAfter === undefined ? withReason : { ...withReason, retryAfter };
}

/**
 * The payload of `error` for the WebSocket message of `host`, naming the message it answers (`cause`, as Nest's
 * own exception filter does for its errors). A client that sent the message with an acknowledgement callback gets
 * the payload as its acknowledgement now: otherwise it would wait for one forever (`emitWithAck` never settles).
 */
export function wsErrorPayload(error: ResilienceError, host: ArgumentsHost): WsResilienceErrorPayload {
  const ws = host.switchToWs();
  const payload = { ...errorPayload(error), cause: { pattern: ws.getPattern(), data: ws.getData<unknown>() } };
  // Socket.IO hands a gateway (client, data, ack); the pattern comes last. Other adapters pass no function there.
  const ack = host.getArgByIndex<unknown>(2);
  // After the exception event, which the exception filter emits in this same turn: the client sees both, in order.
  if (typeof ack === 'function') setImmediate(ack as (answer: unknown) => void, payload);
  return payload;
}

/**
 * An Error that GraphQL servers report with `extensions` (graphql-js copies an original error's `extensions`),
 * so clients read `errors[0].extensions.code`. An `IntrinsicException`: a policy's refusal is an answer, not a bug,
 * so Nest's exception layer does not log it as an error with its stack (as for the `HttpException` of HTTP).
 */
export class GraphQLResilienceError extends IntrinsicException {
  readonly extensions: { code: string; policy: string; retryAfter?: number; reason?: string };

  constructor(error: ResilienceError) {
    super(error.message, { cause: error });
    this.name = 'GraphQLResilienceError';
    // The payload of RPC and WebSocket clients without its `status` and `message` (GraphQL has its own).
    const { status: _status, message: _message, ...extensions } = errorPayload(error);
    this.extensions = extensions;
  }
}

/**
 * Turns a resilience error into the answer the handler's transport understands; other errors pass unchanged.
 * HTTP: an `HttpException` (504, 503, 429) with `Retry-After` set on the response and the error as its `cause`.
 * RPC: an `RpcException` whose payload carries `code` and `policy`. WebSocket: a `WsException` with the same payload
 * and the message it answers (the client gets it as an `exception` event, and as the acknowledgement it asked for).
 * GraphQL: an error with `extensions.code`.
 */
export function toTransportError(error: unknown, context: ExecutionContext, adapterHost: HttpAdapterHost): unknown {
  if (!(error instanceof ResilienceError)) return error;
  // A bug in the application's key function, answered as a 500 that Nest's exception filter does not log: said here.
  if (error.code === 'INVALID_KEY') new Logger('nest-resilience').error(error.message);
  switch (context.getType<string>()) {
    case 'http': {
      const answer = toHttpAnswer(error);
      if (answer === undefined) return error;
      const adapter = adapterHost.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined;
      if (answer.retryAfterSeconds !== undefined && adapter !== undefined) {
        adapter.setHeader(context.switchToHttp().getResponse(), 'Retry-After', String(answer.retryAfterSeconds));
      }
      if (answer.contentType !== undefined && adapter !== undefined) {
        adapter.setHeader(context.switchToHttp().getResponse(), 'Content-Type', answer.contentType);
      }
      return answer.exception;
    }
    case 'rpc':
      return transportExceptions.rpc ? new transportExceptions.rpc(errorPayload(error)) : error;
    case 'ws':
      return transportExceptions.ws ? new transportExceptions.ws(wsErrorPayload(error, context)) : error;
    case 'graphql':
      return new GraphQLResilienceError(error);
    default:
      return error;
  }
}
