/**
 * One Nest 12 HTTP app for the HTTP benchmark, started in its own process by `bench/http.ts`:
 *   node dist/bench/http-server.js <express|fastify> <variant> <port, 0 for any>
 * Variants: bare, ratelimit (ours), ratelimit-no-headers (ours, `headers: false`), throttler (@nestjs/throttler),
 * resilience (all our decorators), interceptor-policies (the five without @RateLimit), cockatiel (the same policies
 * via cockatiel in a hand-written interceptor), cockatiel-bridge (that interceptor's Promise bridge,
 * `from(lastValueFrom(next.handle()))`, with no policy: the cockatiel row's floor), module-only (our module, route
 * undecorated), and Nest's own enhancer cost: noop-interceptor, noop-guard, noop-both (one of each). Limits are high
 * enough that nothing is refused: the figures compare the cost of the checks, not of the refusals. POST /pay variants
 * (every request a new Idempotency-Key): post-bare, post-noop-interceptor, idempotent-memory, idempotent-redis
 * (REDIS_URL).
 * `minimal` is the least any interceptor-plus-rate-limit-guard design adds: one Observable around `next.handle()` and
 * a guard that sets three constant headers; `fused-stand-in` the least the five interceptor policies' happy path
 * could cost, done by one object, `ratelimit-stand-in` the least a rate-limit guard with our headers could, and
 * `six-stand-ins` both on one route, `idempotent-stand-in` the least `@Idempotent` (memory) could on POST /pay
 * (bench/stand-ins.ts). Variant `all-routes` serves every variant that needs only
 * our module in one process (or those BENCH_ROUTES lists), each under its own prefix (`/<variant>/hello`,
 * `/<variant>/pay`), for `npm run bench:http:same-process`.
 */
import 'reflect-metadata';
import {
  Body,
  Controller,
  Get,
  Post,
  Injectable,
  Module,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  type NestInterceptor,
  type Type,
} from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Throttle, ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import {
  bulkhead,
  circuitBreaker,
  ConsecutiveBreaker,
  fallback,
  handleAll,
  retry,
  timeout,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import { from, lastValueFrom, type Observable } from 'rxjs';
import {
  Bulkhead,
  CircuitBreaker,
  Fallback,
  Idempotent,
  RateLimit,
  ResilienceModule,
  Retry,
  Timeout,
} from 'nest-resilience';
import { RedisStore } from 'nest-resilience/redis';
import { SAME_PROCESS_VARIANTS } from './same-process-variants.js';
import {
  FusedStandInController,
  IdempotentStandInController,
  MinimalController,
  RateLimitStandInController,
  SixStandInsController,
} from './stand-ins.js';

const [platform = 'express', variant = 'bare', port = '0'] = process.argv.slice(2);
const HIGH = { limit: 1e9, interval: 1000 };

@Controller()
class BareController {
  @Get('hello')
  hello() {
    return { hello: 'world' };
  }
}

@Controller()
class RateLimitController {
  @Get('hello')
  @RateLimit(HIGH)
  hello() {
    return { hello: 'world' };
  }
}

@Controller()
class QuietRateLimitController {
  @Get('hello')
  @RateLimit({ ...HIGH, headers: false })
  hello() {
    return { hello: 'world' };
  }
}

@Controller()
class ThrottlerController {
  @Get('hello')
  @Throttle({ default: { limit: 1e9, ttl: 1000 } })
  hello() {
    return { hello: 'world' };
  }
}

@Controller()
class ResilienceController {
  @Get('hello')
  @Fallback({ value: { hello: 'fallback' } })
  @Retry()
  @CircuitBreaker()
  @RateLimit(HIGH)
  @Timeout(5000)
  @Bulkhead({ maxConcurrent: 1000 })
  hello() {
    return { hello: 'world' };
  }
}

/** The five policies the interceptor runs, without the rate-limit guard: against the do-nothing interceptor. */
@Controller()
class InterceptorPoliciesController {
  @Get('hello')
  @Fallback({ value: { hello: 'fallback' } })
  @Retry()
  @CircuitBreaker()
  @Timeout(5000)
  @Bulkhead({ maxConcurrent: 1000 })
  hello() {
    return { hello: 'world' };
  }
}

const cockatielPolicy = wrap(
  fallback(handleAll, () => ({ hello: 'fallback' })),
  retry(handleAll, { maxAttempts: 2 }),
  circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
  timeout(5000, TimeoutStrategy.Aggressive),
  bulkhead(1000),
);

/** What a team would write to use cockatiel in Nest: an interceptor running the handler through the policy. */
@Injectable()
class CockatielInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return from(cockatielPolicy.execute(() => lastValueFrom(next.handle())));
  }
}

@Controller()
@UseInterceptors(CockatielInterceptor)
class CockatielController {
  @Get('hello')
  hello() {
    return { hello: 'world' };
  }
}

/**
 * The cockatiel row's floor: the same Promise bridge with no policy in it. cockatiel runs Promise functions, so a Nest
 * interceptor must turn the handler's Observable into a Promise and back; this is what that costs alone.
 */
@Injectable()
class PromiseBridgeInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return from(lastValueFrom(next.handle()));
  }
}

@Controller()
@UseInterceptors(PromiseBridgeInterceptor)
class PromiseBridgeController {
  @Get('hello')
  hello() {
    return { hello: 'world' };
  }
}

/** Nest's own cost of one guard that lets everything through. */
@Injectable()
class NoopGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Controller()
@UseGuards(NoopGuard)
class NoopGuardController {
  @Get('hello')
  hello() {
    return { hello: 'world' };
  }
}

/** Nest's own cost of one interceptor that does nothing. */
@Injectable()
class NoopInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

@Controller()
@UseInterceptors(NoopInterceptor)
class NoopInterceptorController {
  @Get('hello')
  hello() {
    return { hello: 'world' };
  }
}

/** Nest's own cost of the enhancers the six decorators use: one interceptor and one guard, both doing nothing. */
@Controller()
@UseGuards(NoopGuard)
@UseInterceptors(NoopInterceptor)
class NoopBothController {
  @Get('hello')
  hello() {
    return { hello: 'world' };
  }
}

interface Payment {
  amount: number;
  currency: string;
}

@Controller()
class PostController {
  @Post('pay')
  pay(@Body() body: Payment) {
    return { paid: body.amount, currency: body.currency };
  }
}

@Controller()
@UseInterceptors(NoopInterceptor)
class PostNoopInterceptorController {
  @Post('pay')
  pay(@Body() body: Payment) {
    return { paid: body.amount, currency: body.currency };
  }
}

@Controller()
class IdempotentController {
  @Post('pay')
  @Idempotent()
  pay(@Body() body: Payment) {
    return { paid: body.amount, currency: body.currency };
  }
}

/** Only the Redis variant connects: the others must not need a server. */
const redisModule = (): DynamicModule[] =>
  variant === 'idempotent-redis'
    ? [ResilienceModule.forRoot({ store: new RedisStore({ url: process.env.REDIS_URL! }) })]
    : [];

const variants: Record<string, { controller: Type; imports: DynamicModule[]; guards?: Type[] }> = {
  bare: { controller: BareController, imports: [] },
  'noop-interceptor': { controller: NoopInterceptorController, imports: [] },
  'noop-guard': { controller: NoopGuardController, imports: [] },
  'noop-both': { controller: NoopBothController, imports: [] },
  minimal: { controller: MinimalController, imports: [] },
  'fused-stand-in': { controller: FusedStandInController, imports: [] },
  'ratelimit-stand-in': { controller: RateLimitStandInController, imports: [] },
  'six-stand-ins': { controller: SixStandInsController, imports: [] },
  'module-only': { controller: BareController, imports: [ResilienceModule.forRoot()] },
  // Load shedding on, with thresholds the saturated benchmark never reaches: the cost of the healthy path (its guard).
  'load-shedding': {
    controller: BareController,
    imports: [
      ResilienceModule.forRoot({
        loadShedding: { eventLoopUtilization: false, eventLoopDelay: { soft: 1_000, hard: 2_000 } },
      }),
    ],
  },
  ratelimit: { controller: RateLimitController, imports: [ResilienceModule.forRoot()] },
  'ratelimit-no-headers': { controller: QuietRateLimitController, imports: [ResilienceModule.forRoot()] },
  throttler: {
    controller: ThrottlerController,
    imports: [ThrottlerModule.forRoot([{ limit: 1e9, ttl: 1000 }])],
    guards: [ThrottlerGuard],
  },
  resilience: { controller: ResilienceController, imports: [ResilienceModule.forRoot()] },
  'interceptor-policies': { controller: InterceptorPoliciesController, imports: [ResilienceModule.forRoot()] },
  cockatiel: { controller: CockatielController, imports: [] },
  'cockatiel-bridge': { controller: PromiseBridgeController, imports: [] },
  'post-bare': { controller: PostController, imports: [] },
  'post-noop-interceptor': { controller: PostNoopInterceptorController, imports: [] },
  'idempotent-memory': { controller: IdempotentController, imports: [ResilienceModule.forRoot()] },
  'idempotent-stand-in': { controller: IdempotentStandInController, imports: [] },
  'idempotent-redis': { controller: IdempotentController, imports: redisModule() },
};

/**
 * Every variant of BENCH_ROUTES (default: all of them) under its own prefix, registered in that order. The order
 * matters on Express, whose router tries the routes one by one: a route registered later pays for the misses before
 * it (bench/http-same-process.ts alternates the order between processes).
 */
function allRoutes(): { controllers: Type[]; imports: DynamicModule[] } {
  const routes = process.env.BENCH_ROUTES?.split(',') ?? SAME_PROCESS_VARIANTS;
  for (const name of routes) {
    if (!SAME_PROCESS_VARIANTS.includes(name)) throw new Error(`${name} is not a same-process variant`);
  }
  const controllers = routes.map((name) => {
    // A subclass per variant, mounted under the variant's name: the decorated methods are inherited unchanged.
    const controller = class extends variants[name].controller {};
    Object.defineProperty(controller, 'name', { value: `${variants[name].controller.name}_${name}` });
    Reflect.defineMetadata(PATH_METADATA, name, controller);
    return controller;
  });
  return { controllers, imports: [ResilienceModule.forRoot()] };
}

const chosen = variant === 'all-routes' ? undefined : variants[variant];
if (variant !== 'all-routes' && !chosen) throw new Error(`unknown variant ${variant}`);
const { controllers, imports } = chosen ? { controllers: [chosen.controller], imports: chosen.imports } : allRoutes();

@Module({
  imports,
  controllers,
  providers: (chosen?.guards ?? []).map((guard) => ({ provide: APP_GUARD, useClass: guard })),
})
class BenchHttpModule {}

const adapter = platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
const app = await NestFactory.create(BenchHttpModule, adapter, { logger: false });
await app.listen(Number(port), '127.0.0.1');
// The port actually bound (0 asks the system for a free one), for bench/http.ts to load.
console.log(`ready ${(app.getHttpServer() as { address(): { port: number } }).address().port}`);
// A normal exit on SIGINT, so that `node --cpu-prof` can write its profile when asked to stop.
process.on('SIGINT', () => process.exit(0));
