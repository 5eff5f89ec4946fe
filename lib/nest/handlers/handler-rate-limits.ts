import { ServerResponse } from 'node:http';
import type { ExecutionContext } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { RateLimitExceededError } from '../../core/errors/rate-limit-exceeded.error.js';
import type { RateLimitDecision } from '../../core/rate-limit/rate-limit-store.interface.js';
import type { RateLimitState } from '../../core/rate-limit/rate-limit.state.js';
import type { ResilienceEvents } from '../../core/events/resilience-events.js';
import type { PolicyTarget } from '../../core/events/resilience-event.interface.js';
import type { HandlerRateLimitKey } from '../../decorators/resilience.metadata.js';
import { clientAddressKey } from './client-address.js';
import { toTransportError } from '../errors/transport-errors.js';
import { httpRequest, httpResponse } from './http-arguments.js';

/** One limit of a handler: the shared limiter and how a request picks its bucket. */
export interface HandlerRateLimit {
  readonly limiter: RateLimitState;
  readonly key: HandlerRateLimitKey;
}

/**
 * The limits of one handler, compiled at bootstrap and applied by the rate-limit guards. A request spends one token
 * (the limit's `cost`) of each limit; it is refused when any limit has none left, and the refusal names that limit.
 * HTTP answers describe the limit closest to exhaustion in `RateLimit-*` headers.
 */
export class HandlerRateLimitPlan {
  constructor(
    readonly limits: readonly HandlerRateLimit[],
    /** True when the limits come from the handler's own `@RateLimit` (a class-level guard then stands aside). */
    readonly declaredOnHandler: boolean,
    private readonly adapterHost: HttpAdapterHost,
    private readonly events?: ResilienceEvents,
    private readonly target?: PolicyTarget,
  ) {}

  /** Spends the request's tokens; true when allowed, else throws the transport's refusal. */
  check(context: ExecutionContext): boolean | Promise<boolean> {
    const { limits } = this;
    if (limits.length === 1) {
      // The common case, one limit: no arrays per request.
      const [only] = limits as [HandlerRateLimit];
      const decision = only.limiter.consume(keyOf(only.key, context), 0);
      if (decision instanceof Promise) return decision.then((settled) => this.answer(context, only, settled));
      return this.answer(context, only, decision);
    }
    const decisions: (RateLimitDecision | Promise<RateLimitDecision>)[] = limits.map((limit) =>
      limit.limiter.consume(keyOf(limit.key, context), 0),
    );
    if (decisions.some((decision) => decision instanceof Promise)) {
      return Promise.all(decisions.map((decision) => Promise.resolve(decision))).then((settled) =>
        this.answerMany(context, settled),
      );
    }
    return this.answerMany(context, decisions as RateLimitDecision[]);
  }

  private answerMany(context: ExecutionContext, decisions: readonly RateLimitDecision[]): boolean {
    // A refusing limit if there is one (the one that frees up last), else the one with the fewest tokens left.
    let chosen = 0;
    for (let index = 1; index < decisions.length; index++) {
      if (isCloserToExhaustion(decisions[index], decisions[chosen])) chosen = index;
    }
    return this.answer(context, this.limits[chosen], decisions[chosen]);
  }

  private answer(context: ExecutionContext, { limiter }: HandlerRateLimit, decision: RateLimitDecision): boolean {
    if (limiter.options.headers && context.getType() === 'http') this.setHeaders(context, limiter, decision);
    if (decision.allowed) return true;
    if (this.events?.observed) this.rejected(context, limiter, decision);
    throw toTransportError(new RateLimitExceededError(limiter.name, decision.retryAfterMs), context, this.adapterHost);
  }

  /** Reports a refusal (`rate-limit-rejected`), with the bucket key of the limit that refused. */
  private rejected(context: ExecutionContext, limiter: RateLimitState, decision: RateLimitDecision): void {
    const limit = this.limits.find((candidate) => candidate.limiter === limiter)!;
    this.events!.emit({
      type: 'rate-limit-rejected',
      policy: limiter.name,
      target: this.target!,
      key: keyOf(limit.key, context),
      retryAfterMs: decision.retryAfterMs,
    });
  }

  private setHeaders(context: ExecutionContext, limiter: RateLimitState, decision: RateLimitDecision): void {
    const adapter = this.adapterHost.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined;
    if (adapter === undefined) return;
    const response = httpResponse<unknown>(context);
    const limit = limiter.capacityHeader;
    const remaining = String(decision.remaining);
    const reset = String(Math.ceil(decision.resetMs / 1000));
    // Lower-case names: HTTP field names are case-insensitive, and Fastify lower-cases every name it is given (a new
    // string per header and request unless it already is).
    setHeader(adapter, response, 'ratelimit-limit', limit);
    setHeader(adapter, response, 'ratelimit-remaining', remaining);
    setHeader(adapter, response, 'ratelimit-reset', reset);
    if (limiter.options.legacyHeaders) {
      setHeader(adapter, response, 'x-ratelimit-limit', limit);
      setHeader(adapter, response, 'x-ratelimit-remaining', remaining);
      setHeader(adapter, response, 'x-ratelimit-reset', reset);
    }
  }
}

/**
 * Express's response is Node's ServerResponse: set on it directly (Express's `res.set` adds only a String() and a
 * Content-Type check on top); Fastify keeps its own list of headers, reached through Nest's adapter.
 */
function setHeader(adapter: HttpAdapterHost['httpAdapter'], response: unknown, name: string, value: string): void {
  if (response instanceof ServerResponse) response.setHeader(name, value);
  else adapter.setHeader(response, name, value);
}

function isCloserToExhaustion(candidate: RateLimitDecision, current: RateLimitDecision): boolean {
  if (candidate.allowed !== current.allowed) return !candidate.allowed;
  if (!candidate.allowed) return candidate.retryAfterMs > current.retryAfterMs;
  return candidate.remaining < current.remaining;
}

/** The bucket key of a request. */
function keyOf(key: HandlerRateLimitKey, context: ExecutionContext): string {
  if (key === 'global') return 'global';
  if (key === 'ip') return clientAddressKey(clientAddress(context));
  return String(key(context));
}

/** The client's address on each transport; `'global'` for microservice messages, which have none. */
function clientAddress(context: ExecutionContext): string | undefined {
  switch (context.getType<string>()) {
    case 'http':
      return requestAddress(httpRequest<HttpRequest>(context));
    case 'graphql':
      return context.getArgByIndex<{ req?: { ip?: string } } | undefined>(2)?.req?.ip;
    case 'ws':
      return socketAddress(context.switchToWs().getClient<WebSocketClient>());
    default:
      return 'global';
  }
}

/** What Express and Fastify requests expose of the client's address. */
interface HttpRequest {
  ip?: string;
  socket?: { remoteAddress?: string };
  /** Express only: the application, whose `trust proxy` setting decides what `ip` reads. */
  app?: { settings?: Record<string, unknown> };
}

/**
 * `request.ip`, without its cost where it can be skipped: Express computes it on every read by parsing
 * `X-Forwarded-For` through proxy-addr (about 3 us a request here), which gives the socket's address anyway when the
 * app trusts no proxy (`trust proxy` unset, false or 0). Fastify's `ip` is cheap.
 */
function requestAddress(request: HttpRequest): string | undefined {
  const settings = request.app?.settings;
  if (settings !== undefined && !settings['trust proxy']) return request.socket?.remoteAddress;
  return request.ip;
}

/** What Socket.IO and `ws` clients expose of the peer's address. */
interface WebSocketClient {
  handshake?: { address?: string };
  _socket?: { remoteAddress?: string };
}

function socketAddress(client: WebSocketClient): string | undefined {
  return client.handshake?.address ?? client._socket?.remoteAddress;
}
