import { Injectable, type CanActivate, type ExecutionContext, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { findHandlers } from './resilience.interceptor.js';
import type { ResilientHandlers } from './resilient-handlers.js';
import type { HandlerRateLimitPlan } from './handler-rate-limits.js';

/**
 * Applies a handler's `@RateLimit`s before interceptors, pipes and the handler, on every transport (attached by
 * the decorator, so only limited handlers run it). HTTP answers carry `RateLimit-Limit`, `RateLimit-Remaining` and
 * `RateLimit-Reset`; a refused request gets 429 with `Retry-After` and a JSON body naming the limit; RPC, WebSocket
 * and GraphQL clients get the error's `code` (`RATE_LIMIT_EXCEEDED`), `policy` and `retryAfter`.
 */
@Injectable()
export class RateLimitGuard implements CanActivate, OnModuleInit {
  private handlers: ResilientHandlers | undefined;

  constructor(private readonly moduleRef: ModuleRef) {}

  /** Without ResilienceModule, bootstrap fails here rather than letting requests through unlimited. */
  onModuleInit(): void {
    this.handlers = findHandlers(this.moduleRef);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const plan = (this.handlers ??= findHandlers(this.moduleRef)).rateLimits(context);
    if (plan === undefined || plan.appliedBy !== this.applies) return true;
    return plan.check(context);
  }

  /** Which plans this guard applies: the handler-level guard those of handlers with their own limits. */
  protected readonly applies: HandlerRateLimitPlan['appliedBy'] = 'handler';
}

/**
 * The guard a class-level `@RateLimit` attaches: it applies the class's limits, and stands aside for handlers that
 * declare their own (their handler-level guard applies those), so no request is charged twice.
 */
@Injectable()
export class ClassRateLimitGuard extends RateLimitGuard {
  protected override readonly applies = 'class';
}

/**
 * The global guard (`APP_GUARD`) the module registers when `globalRateLimits` is set: it applies the limits of
 * handlers with no `@RateLimit` of their own or of their class (theirs are applied, global limits included, by the
 * guard their decorator attached, which also runs where Nest applies no global guard).
 */
@Injectable()
export class GlobalRateLimitGuard extends RateLimitGuard {
  protected override readonly applies = 'global';
}
