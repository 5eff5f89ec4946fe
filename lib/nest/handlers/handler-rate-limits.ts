import { ServerResponse } from 'node:http';
import type { ExecutionContext } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { InvalidKeyError } from '../../core/errors/invalid-key.error.js';
import { RateLimitExceededError } from '../../core/errors/rate-limit-exceeded.error.js';
import type { RateLimitDecision, TokenBucketRule } from '../../core/rate-limit/rate-limit-store.interface.js';
import { RateLimitState } from '../../core/rate-limit/rate-limit.state.js';
import { keyFrom } from '../../core/validation/key-data.js';
import type { ResilienceEvents } from '../../core/events/resilience-events.js';
import type { PolicyTarget } from '../../core/events/resilience-event.interface.js';
import type { HandlerRateLimitKey } from '../../decorators/resilience.metadata.js';
import { clientAddressKey } from '../request/client-address.js';
import { toTransportError } from '../errors/transport-errors.js';
import { httpRequest, httpResponse } from '../request/http-arguments.js';

/** One limit of a handler: the shared limiter and how a request picks its bucket. */
import type { HandlerRateLimit } from '../pipeline/stages/rate-limit.stage.js';

type ContextFunction<T> = (context: ExecutionContext) => T;

/** A limit as a request applies it: what the options compute per request, read once at bootstrap. */
class CompiledLimit {
  readonly limiter: RateLimitState;
  readonly skipIf: ContextFunction<boolean> | undefined;
  private readonly key: HandlerRateLimitKey;
  private readonly ipv6Prefix: number;
  private readonly limitOf: ContextFunction<number> | undefined;
  private readonly intervalOf: ContextFunction<number> | undefined;
  private readonly message: string | ContextFunction<string> | undefined;

  constructor({ limiter, key }: HandlerRateLimit) {
    const { options } = limiter;
    this.limiter = limiter;
    this.key = key;
    this.ipv6Prefix = options.ipv6Prefix;
    this.skipIf = options.skipIf as ContextFunction<boolean> | undefined;
    this.message = options.message as string | ContextFunction<string> | undefined;
    this.limitOf = typeof options.limit === 'function' ? (options.limit as ContextFunction<number>) : undefined;
    this.intervalOf =
      typeof options.interval === 'function' ? (options.interval as ContextFunction<number>) : undefined;
  }

  /** The bucket key of a request; throws an `InvalidKeyError` when the key function returns no key. */
  keyOf(context: ExecutionContext): string {
    const { key } = this;
    if (key === 'global') return 'global';
    if (key === 'ip') return clientAddressKey(clientAddress(context), this.ipv6Prefix);
    return keyFrom(key(context), this.limiter.name, 'rate-limit-key');
  }

  /** The bucket rule of a request: the limiter's, or computed per request when `limit`/`interval` are functions. */
  ruleOf(context: ExecutionContext): TokenBucketRule {
    const { limiter, limitOf, intervalOf } = this;
    if (limitOf === undefined && intervalOf === undefined) return limiter.rule;
    const { limit, interval } = limiter.options;
    return limiter.ruleFor(
      limitOf === undefined ? (limit as number) : limitOf(context),
      intervalOf === undefined ? (interval as number) : intervalOf(context),
    );
  }

  /** The refusal, with the limit's own message when it has one. */
  refusal(context: ExecutionContext, decision: RateLimitDecision): RateLimitExceededError {
    const { message } = this;
    const text = typeof message === 'function' ? message(context) : message;
    return new RateLimitExceededError(this.limiter.name, decision.retryAfterMs, text);
  }

  /** `RateLimit-Limit`: the capacity, computed per request when the limit is. */
  capacityHeader(rule: TokenBucketRule): string {
    return rule === this.limiter.rule ? this.limiter.capacityHeader : String(rule.capacity);
  }
}

/**
 * The limits of one handler, compiled at bootstrap and applied by the rate-limit guards. A request spends one token
 * (the limit's `cost`) of each limit only when every limit admits it (atomically in the store); it is refused when
 * any limit has none left, and the refusal names that limit. A limit whose `skipIf` returns true for the request is
 * left out. HTTP answers describe the limit closest to exhaustion in `RateLimit-*` headers.
 */
export class HandlerRateLimitPlan {
  private readonly compiled: readonly CompiledLimit[];
  /** True when a limit has `skipIf`: only then is the list filtered per request. */
  private readonly skippable: boolean;
  /** How this app's adapter sets a header on a response that is not Node's own; chosen on the first request. */
  private setOnReply: HeaderSetter | undefined;

  constructor(
    readonly limits: readonly HandlerRateLimit[],
    /** Who applies the limits: the handler's own guard, its class's, or the global guard (`globalRateLimits`). */
    readonly appliedBy: 'handler' | 'class' | 'global',
    private readonly adapterHost: HttpAdapterHost,
    /** Where refusals are reported (`rate-limit-rejected`), while someone listens. */
    private readonly events: ResilienceEvents,
    private readonly target: PolicyTarget,
  ) {
    this.compiled = limits.map((limit) => new CompiledLimit(limit));
    this.skippable = this.compiled.some((limit) => limit.skipIf !== undefined);
  }

  /** Spends the request's tokens; true when allowed, else throws the transport's refusal. */
  check(context: ExecutionContext): boolean | Promise<boolean> {
    try {
      return this.spend(context);
    } catch (error) {
      // A key function that returned no key: that request is refused, in the transport's terms (HTTP 500).
      throw error instanceof InvalidKeyError ? toTransportError(error, context, this.adapterHost) : error;
    }
  }

  private spend(context: ExecutionContext): boolean | Promise<boolean> {
    let limits = this.compiled;
    if (this.skippable) limits = limits.filter((limit) => limit.skipIf?.(context) !== true);
    if (limits.length === 1) {
      // The common case, one limit: no arrays per request.
      const only = limits[0];
      const rule = only.ruleOf(context);
      const key = only.keyOf(context);
      const decision = only.limiter.consume(key, 0, rule);
      if (decision instanceof Promise) {
        return decision.then((settled) => this.answer(context, only, rule, key, settled));
      }
      return this.answer(context, only, rule, key, decision);
    }
    if (limits.length === 0) return true;
    const rules = limits.map((limit) => limit.ruleOf(context));
    const keys = limits.map((limit) => limit.keyOf(context));
    const decisions = RateLimitState.consumeAll(
      limits.map((limit) => limit.limiter),
      keys,
      rules,
      0,
    );
    if (decisions instanceof Promise)
      return decisions.then((settled) => this.answerMany(context, limits, rules, keys, settled));
    return this.answerMany(context, limits, rules, keys, decisions);
  }

  private answerMany(
    context: ExecutionContext,
    limits: readonly CompiledLimit[],
    rules: readonly TokenBucketRule[],
    keys: readonly string[],
    decisions: readonly RateLimitDecision[],
  ): boolean {
    // A refusing limit if there is one (the one that frees up last), else the one with the fewest tokens left.
    let chosen = 0;
    for (let index = 1; index < decisions.length; index++) {
      if (isCloserToExhaustion(decisions[index], decisions[chosen])) chosen = index;
    }
    return this.answer(context, limits[chosen], rules[chosen], keys[chosen], decisions[chosen]);
  }

  private answer(
    context: ExecutionContext,
    limit: CompiledLimit,
    rule: TokenBucketRule,
    key: string,
    decision: RateLimitDecision,
  ): boolean {
    const { limiter } = limit;
    if (limiter.options.headers && context.getType() === 'http') {
      this.setHeaders(context, limiter, limit.capacityHeader(rule), decision);
    }
    if (decision.allowed) return true;
    if (this.events.observed) {
      this.events.emit({
        type: 'rate-limit-rejected',
        policy: limiter.name,
        target: this.target,
        key,
        retryAfterMs: decision.retryAfterMs,
      });
    }
    throw toTransportError(limit.refusal(context, decision), context, this.adapterHost);
  }

  private setHeaders(
    context: ExecutionContext,
    limiter: RateLimitState,
    limit: string,
    decision: RateLimitDecision,
  ): void {
    const adapter = this.adapterHost.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined;
    if (adapter === undefined) return;
    const response = httpResponse<object>(context);
    // Chosen once per request, not per header: a Node response (Express), a Fastify reply, or another adapter's.
    const set = response instanceof ServerResponse ? setOnNodeResponse : (this.setOnReply ??= replySetter(adapter));
    const remaining = String(decision.remaining);
    const reset = String(Math.ceil(decision.resetMs / 1000));
    // Lower-case names: HTTP field names are case-insensitive, and Fastify lower-cases every name it is given (a new
    // string per header and request unless it already is).
    set(response, 'ratelimit-limit', limit);
    set(response, 'ratelimit-remaining', remaining);
    set(response, 'ratelimit-reset', reset);
    if (limiter.options.legacyHeaders) {
      set(response, 'x-ratelimit-limit', limit);
      set(response, 'x-ratelimit-remaining', remaining);
      set(response, 'x-ratelimit-reset', reset);
    }
  }
}

/** Sets one header on the platform's response object. */
type HeaderSetter = (response: object, name: string, value: string) => void;

/**
 * Express's response is Node's ServerResponse: set on it directly (Express's `res.set` adds only a String() and a
 * Content-Type check on top).
 */
const setOnNodeResponse: HeaderSetter = (response, name, value) => {
  (response as ServerResponse).setHeader(name, value);
};

/** Fastify's reply keeps its own list of headers: `reply.header`, what Nest's adapter would call after a check. */
const setOnFastifyReply: HeaderSetter = (reply, name, value) => {
  (reply as { header(name: string, value: string): unknown }).header(name, value);
};

/**
 * How headers are set on the replies of the app's HTTP adapter: Nest's Fastify adapter's directly, any other through
 * the adapter, so that an adapter subclass overriding `setHeader` is still called.
 */
function replySetter(adapter: HttpAdapterHost['httpAdapter']): HeaderSetter {
  if (adapter.getType() === 'fastify' && setsHeadersAsNestFastifyAdapter(adapter)) return setOnFastifyReply;
  return (response, name, value) => {
    adapter.setHeader(response, name, value);
  };
}

/** Whether the `setHeader` that `adapter` runs is `FastifyAdapter`'s own (no subclass overrides it). */
function setsHeadersAsNestFastifyAdapter(adapter: object): boolean {
  let owner: object | null = Object.getPrototypeOf(adapter) as object | null;
  while (owner !== null && !Object.hasOwn(owner, 'setHeader')) owner = Object.getPrototypeOf(owner) as object | null;
  return owner?.constructor.name === 'FastifyAdapter';
}

function isCloserToExhaustion(candidate: RateLimitDecision, current: RateLimitDecision): boolean {
  if (candidate.allowed !== current.allowed) return !candidate.allowed;
  if (!candidate.allowed) return candidate.retryAfterMs > current.retryAfterMs;
  return candidate.remaining < current.remaining;
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
