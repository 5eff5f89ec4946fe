import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import type { RateLimitOptions } from '../core/rate-limit/rate-limit-options.js';
import { RateLimitGuard } from '../nest/rate-limit.guard.js';
import { RATE_LIMIT_METADATA, SKIP_RATE_LIMIT_METADATA } from '../nest/resilience.constants.js';
import { policySpec } from './policy-spec.factory.js';

/**
 * A token-bucket rate limit: `limit` tokens per `interval` ms, bursts up to `burst`.
 * On controller handlers (or a whole controller class) it runs as a guard before everything else, per client IP by
 * default, and answers 429 with `Retry-After`. On provider methods it is an outbound quota (one bucket by default):
 * a call waits up to `maxWait` for a token or fails with `RateLimitExceededError`.
 *
 * @example `@RateLimit({ limit: 10, interval: 1000 })`, `@RateLimit('public-api')`,
 *          `@RateLimit({ limit: 100, interval: 60_000, key: (ctx) => ctx.switchToHttp().getRequest().user.id })`.
 */
export function RateLimit(options?: Partial<RateLimitOptions>): MethodDecorator & ClassDecorator;
export function RateLimit(name: string, options?: Partial<RateLimitOptions>): MethodDecorator & ClassDecorator;
export function RateLimit(
  nameOrOptions?: string | Partial<RateLimitOptions>,
  options?: Partial<RateLimitOptions>,
): MethodDecorator & ClassDecorator {
  // The guard is attached only where a limit is declared: routes without one pay nothing for it.
  return applyDecorators(SetMetadata(RATE_LIMIT_METADATA, policySpec(nameOrOptions, options)), UseGuards(RateLimitGuard));
}

/** Exempts a controller handler (or a whole controller) from `@RateLimit` set on its class. */
export function SkipRateLimit(): MethodDecorator & ClassDecorator {
  return SetMetadata(SKIP_RATE_LIMIT_METADATA, true);
}
