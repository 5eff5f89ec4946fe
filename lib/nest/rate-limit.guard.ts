import { HttpException, HttpStatus, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { RateLimitDecision } from '../core/rate-limit/rate-limit-store.interface.js';
import { clientAddressKey } from './client-address.js';
import { ControllerRateLimits } from './controller-rate-limits.js';
import type { ResolvedRateLimit } from './policy-resolver.js';

/**
 * Applies `@RateLimit` to controller handlers, before interceptors, pipes and the handler (attached by the
 * decorator, so only limited routes run it). Every answer carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; a
 * refused request gets 429 with `Retry-After` and a JSON body naming the limit.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly rateLimits: ControllerRateLimits,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const rateLimit = this.rateLimits.get(context.getHandler());
    if (rateLimit === undefined) return true;
    const decision = rateLimit.limiter.consume(this.keyOf(rateLimit, context), 0);
    if (decision instanceof Promise) return decision.then((settled) => this.answer(rateLimit, settled, context));
    return this.answer(rateLimit, decision, context);
  }

  private keyOf({ key }: ResolvedRateLimit, context: ExecutionContext): string {
    if (key === 'global') return 'global';
    if (key === 'ip') return clientAddressKey(context.switchToHttp().getRequest<{ ip?: string }>().ip);
    return String((key as (context: ExecutionContext) => unknown)(context));
  }

  private answer({ limiter }: ResolvedRateLimit, decision: RateLimitDecision, context: ExecutionContext): boolean {
    if (context.getType() === 'http') {
      const response: unknown = context.switchToHttp().getResponse();
      const { httpAdapter } = this.adapterHost;
      const limit = limiter.capacityHeader;
      const remaining = String(decision.remaining);
      const reset = String(Math.ceil(decision.resetMs / 1000));
      httpAdapter.setHeader(response, 'RateLimit-Limit', limit);
      httpAdapter.setHeader(response, 'RateLimit-Remaining', remaining);
      httpAdapter.setHeader(response, 'RateLimit-Reset', reset);
      if (limiter.options.legacyHeaders) {
        httpAdapter.setHeader(response, 'X-RateLimit-Limit', limit);
        httpAdapter.setHeader(response, 'X-RateLimit-Remaining', remaining);
        httpAdapter.setHeader(response, 'X-RateLimit-Reset', reset);
      }
      if (!decision.allowed) {
        httpAdapter.setHeader(response, 'Retry-After', String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))));
      }
    }
    if (decision.allowed) return true;
    throw new HttpException(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        error: 'Too Many Requests',
        message: `Rate limit "${limiter.name}" exceeded: retry in ${Math.ceil(decision.retryAfterMs / 1000)} s`,
        code: 'RATE_LIMIT_EXCEEDED',
        policy: limiter.name,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
