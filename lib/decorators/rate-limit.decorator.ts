import { UseGuards, type ExecutionContext } from '@nestjs/common';
import type { RateLimitOptions } from '../core/rate-limit/rate-limit.options.js';
import { ClassRateLimitGuard, RateLimitGuard } from '../nest/handlers/rate-limit.guard.js';
import {
  RATE_LIMIT_METADATA,
  SKIP_RATE_LIMIT_METADATA,
  type HandlerRateLimitKey,
  type SkippedRateLimits,
  type PolicySpec,
} from './resilience.metadata.js';
import { policySpec } from './policy-decorator.js';

/** `@RateLimit` options on a handler (HTTP route, resolver, gateway or message handler) or a controller class. */
export interface HandlerRateLimitOptions extends Partial<
  Omit<RateLimitOptions, 'key' | 'limit' | 'interval' | 'message' | 'skipIf'>
> {
  /** Tokens added per `interval`, or a function of the request computing it (e.g. by plan). Default `100`. */
  limit?: number | ((context: ExecutionContext) => number);
  /** Milliseconds over which `limit` tokens are added, or a function of the request. Default `60_000`. */
  interval?: number | ((context: ExecutionContext) => number);
  /** The refusal's message, or a function of the request. Default: names the limit and when to retry. */
  message?: string | ((context: ExecutionContext) => string);
  /** When it returns `true`, the request spends nothing of this limit. Default: none. */
  skipIf?: (context: ExecutionContext) => boolean;
  /**
   * Whose bucket a request spends from: `'ip'` (default: the client's address on HTTP, GraphQL and WebSocket;
   * microservice messages share one bucket), `'global'`, or a function of the `ExecutionContext`.
   */
  key?: HandlerRateLimitKey;
}

/** `@RateLimit` options on a provider method: an outbound quota. */
export interface ProviderRateLimitOptions<TArgs extends unknown[] = never[]> extends Partial<
  Omit<RateLimitOptions, 'key' | 'limit' | 'interval' | 'message' | 'skipIf' | 'ipv6Prefix'>
> {
  /** Tokens added per `interval`. Default `100`. */
  limit?: number;
  /** Milliseconds over which `limit` tokens are added. Default `60_000`. */
  interval?: number;
  /** The message of the `RateLimitExceededError`. Default: names the limit and when to retry. */
  message?: string;
  /** Whose bucket a call spends from: `'global'` (default, one bucket) or a function of the method's arguments. */
  key?: 'global' | ((...args: TArgs) => string);
}

/**
 * A token-bucket rate limit: `limit` tokens per `interval` ms, bursts up to `burst`.
 * On handlers (HTTP, GraphQL, WebSocket, microservices) and controller classes it runs as a guard before everything
 * else, per client address by default, and answers 429 with `Retry-After` over HTTP (the error's `code` elsewhere).
 * On provider methods it is an outbound quota (one bucket by default): a call waits up to `maxWait` for a token or
 * fails with `RateLimitExceededError`. Several `@RateLimit`s on one method ("3 per second and 100 per minute") each
 * take one token per request; a request is refused when any of them has none.
 *
 * @example `@RateLimit({ limit: 10, interval: 1000 })`, `@RateLimit('public-api')`,
 *          `@RateLimit({ limit: 100, interval: 60_000, key: (ctx) => ctx.switchToHttp().getRequest().user.id })`.
 */
export function RateLimit(options?: HandlerRateLimitOptions): MethodDecorator & ClassDecorator;
export function RateLimit(options: ProviderRateLimitOptions): MethodDecorator;
export function RateLimit(
  name: string,
  options?: HandlerRateLimitOptions | ProviderRateLimitOptions,
): MethodDecorator & ClassDecorator;
export function RateLimit(
  nameOrOptions?: string | HandlerRateLimitOptions | ProviderRateLimitOptions,
  options?: HandlerRateLimitOptions | ProviderRateLimitOptions,
): MethodDecorator & ClassDecorator {
  const spec = policySpec<RateLimitOptions>(nameOrOptions, options);
  return (target: object, propertyKey?: string | symbol, descriptor?: PropertyDescriptor) => {
    const host = (descriptor?.value as object | undefined) ?? target;
    const specs = (Reflect.getOwnMetadata(RATE_LIMIT_METADATA, host) ?? []) as PolicySpec<RateLimitOptions>[];
    // Decorators apply bottom-up: prepend, so the list reads in source order.
    Reflect.defineMetadata(RATE_LIMIT_METADATA, [spec, ...specs], host);
    // The guard is attached once, and only where a limit is declared: other routes pay nothing for it.
    if (specs.length > 0) return;
    if (descriptor) UseGuards(RateLimitGuard)(target, propertyKey!, descriptor);
    else UseGuards(ClassRateLimitGuard)(target as new (...args: never[]) => unknown);
  };
}

/**
 * Exempts a handler (or every handler of a controller) from rate limits it would inherit: with no argument from
 * every limit of its class and every global limit (`globalRateLimits`); with names, from those named limits only,
 * e.g. `@SkipRateLimit('burst')`. A handler's own `@RateLimit` still applies. Names are checked at bootstrap: one
 * that no `rateLimits` configuration has fails the app (with "did you mean").
 */
export function SkipRateLimit(...names: string[]): MethodDecorator & ClassDecorator {
  return (target: object, _propertyKey?: string | symbol, descriptor?: PropertyDescriptor) => {
    const host = (descriptor?.value as object | undefined) ?? target;
    const recorded = Reflect.getOwnMetadata(SKIP_RATE_LIMIT_METADATA, host) as SkippedRateLimits | undefined;
    let skipped: SkippedRateLimits;
    if (names.length === 0 || recorded === true) skipped = true;
    else skipped = [...(recorded ?? []), ...names];
    Reflect.defineMetadata(SKIP_RATE_LIMIT_METADATA, skipped, host);
  };
}
