/**
 * The in-process handler cases of `bench/interceptor.ts` and the allocation guard (`bench/alloc.ts`): our
 * interceptor and guard, as the decorators attach them, beside Nest's do-nothing ones, called with a stand-in (or,
 * for the POST cases, Nest's own) execution context of an HTTP request. No HTTP: the figure is ours, not the
 * network's.
 */
import 'reflect-metadata';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import {
  Controller,
  Get,
  Injectable,
  Module,
  Post,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { GUARDS_METADATA, INTERCEPTORS_METADATA } from '@nestjs/common/constants.js';
import { HttpAdapterHost, ModuleRef, NestFactory } from '@nestjs/core';
import { GuardsConsumer } from '@nestjs/core/guards/guards-consumer.js';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { InterceptorsConsumer } from '@nestjs/core/interceptors/interceptors-consumer.js';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { lastValueFrom, of, type Observable } from 'rxjs';
import {
  Bulkhead,
  CircuitBreaker,
  Fallback,
  Idempotent,
  MemoryIdempotencyStore,
  RateLimit,
  ResilienceModule,
  Retry,
  Timeout,
} from 'nest-resilience';
import type { BenchCase } from './measure.js';
import { FusedStandInInterceptor, RateLimitStandInGuard } from './stand-ins.js';

@Controller()
class BenchController {
  @Get('all')
  @Fallback({ value: { hello: 'fallback' } })
  @Retry()
  @CircuitBreaker()
  @Timeout(5000)
  @Bulkhead({ maxConcurrent: 1000 })
  all() {
    return { hello: 'world' };
  }

  /** All six, as bench/http-server.ts's `resilience` route: beside the six stand-ins through Nest's consumers. */
  @Get('six')
  @Fallback({ value: { hello: 'fallback' } })
  @Retry()
  @CircuitBreaker()
  @RateLimit({ limit: 1e9, interval: 1000 })
  @Timeout(5000)
  @Bulkhead({ maxConcurrent: 1000 })
  six() {
    return { hello: 'world' };
  }

  @Get('timeout')
  @Timeout(5000)
  timeout() {
    return { hello: 'world' };
  }

  @Get('limited')
  @RateLimit({ limit: 1e9, interval: 1000 })
  limited() {
    return { hello: 'world' };
  }

  @Post('pay')
  @Idempotent()
  pay() {
    return { paid: 42, currency: 'EUR' };
  }
}

@Injectable()
class NoopInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

@Injectable()
class NoopGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

/**
 * BENCH_IDEMPOTENCY_MAX_ENTRIES sets the memory store's record bound (default 10,000, the library's): with a new key
 * per call the store holds that many records and evicts one per call, which is what the garbage collector copies.
 */
const maxEntries = process.env.BENCH_IDEMPOTENCY_MAX_ENTRIES;
const idempotencyStore =
  maxEntries === undefined ? undefined : new MemoryIdempotencyStore({ maxEntries: Number(maxEntries) });

@Module({ imports: [ResilienceModule.forRoot({ idempotencyStore })], controllers: [BenchController] })
class BenchModule {}

/** The names of the in-process cases, in the order `bench/interceptor.ts` prints them. */
export type InterceptorCaseName =
  | 'noop-interceptor'
  | 'resilience-all'
  | 'resilience-timeout'
  | 'noop-guard'
  | 'ratelimit-guard'
  | 'post-bare'
  | 'post-noop-interceptor'
  | 'post-idempotent-memory'
  | 'nest-noop-both'
  | 'nest-six-stand-ins'
  | 'nest-six-decorators'
  | 'nest-noop-both-fastify'
  | 'nest-six-stand-ins-fastify'
  | 'nest-six-decorators-fastify';

/** Boots the bench controller's module and returns one call of each case, and what closes the module. */
export async function bootInterceptorCases(): Promise<{
  cases: Record<InterceptorCaseName, BenchCase['run']>;
  close: () => Promise<void>;
}> {
  const moduleRef = await (await Test.createTestingModule({ imports: [BenchModule] }).compile()).init();
  /**
   * The enhancers the decorators attached, read as Nest reads them (`@UseInterceptors` / `@UseGuards` metadata), so the
   * bench needs no export beyond the decorators a user imports.
   */
  type Enhancer<T> = new (moduleRef: ModuleRef) => T & { onModuleInit(): void };
  const enhancerOf = <T>(key: string, method: keyof BenchController): Enhancer<T> =>
    (Reflect.getMetadata(key, BenchController.prototype[method]) as Enhancer<T>[])[0];
  /** Ours answers synchronously with an Observable (Nest's interface also allows a Promise of one). */
  type SyncInterceptor = { intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> };
  const interceptor = new (enhancerOf<SyncInterceptor>(INTERCEPTORS_METADATA, 'all'))(moduleRef.get(ModuleRef));
  interceptor.onModuleInit();
  const guard = new (enhancerOf<CanActivate>(GUARDS_METADATA, 'limited'))(moduleRef.get(ModuleRef));
  guard.onModuleInit();
  const noopInterceptor = new NoopInterceptor();
  const noopGuard = new NoopGuard();

  const body = { hello: 'world' };
  const request = { method: 'GET', ip: '127.0.0.1' };
  const response = { setHeader: () => undefined };
  /** A stand-in for Nest's ExecutionContextHost of an HTTP request to `handler`. */
  function contextOf(handler: object): ExecutionContext {
    const http = { getRequest: () => request, getResponse: () => response, getNext: () => undefined };
    return {
      getType: () => 'http',
      getHandler: () => handler,
      getClass: () => BenchController,
      getArgs: () => [request, response],
      getArgByIndex: (index: number) => [request, response][index],
      switchToHttp: () => http,
    } as unknown as ExecutionContext;
  }
  const next: CallHandler = { handle: () => of(body) };
  const proto = BenchController.prototype as unknown as Record<string, object>;
  const contexts = { all: contextOf(proto.all), timeout: contextOf(proto.timeout), limited: contextOf(proto.limited) };

  /**
   * bench/http-server.ts's POST /pay as Express hands it over: a parsed JSON body and a new key on every request (set
   * before each call in every POST case alike, so the cases differ only by what runs around the handler).
   */
  const postRequest = {
    method: 'POST',
    url: '/pay',
    originalUrl: '/pay',
    ip: '127.0.0.1',
    body: { amount: 42, currency: 'EUR' } as unknown,
    headers: { 'content-type': 'application/json', 'idempotency-key': '' } as Record<string, string>,
  };
  const postResponse = {
    statusCode: 201,
    setHeader: () => undefined,
    getHeader: (name: string) => (name === 'content-type' ? 'application/json; charset=utf-8' : undefined),
  };
  const paid = { paid: 42, currency: 'EUR' };
  const postNext: CallHandler = { handle: () => of(paid) };
  let keys = 0;
  /**
   * A new key and a freshly parsed body, as every HTTP request brings, in a new `ExecutionContextHost`: Nest makes
   * one per request, and its `switchToHttp()` assigns three new closures to it on every call (a stand-in would hide
   * that cost).
   */
  function nextPost(): ExecutionContext {
    postRequest.headers['idempotency-key'] = `bench-${++keys}`;
    postRequest.body = { amount: 42, currency: 'EUR' };
    const context = new ExecutionContextHost(
      [postRequest, postResponse, undefined],
      BenchController,
      proto.pay as () => unknown,
    );
    context.setType('http');
    return context;
  }

  /**
   * A GET through Nest's own guard and interceptor consumers, as its router runs them (a new ExecutionContextHost for
   * each, the interceptor's `next.handle()` deferred and bound to the async scope), on a real Node ServerResponse
   * (the headers are set as on Express) and a request that looks like Express's (socket address, `trust proxy` off).
   * Nothing else of the router runs: what two HTTP routes with the same handler differ by is exactly this. The
   * decorators' enhancers come from a module of their own whose HTTP adapter is Express's: without one (a testing
   * module has none) the rate-limit guard sets no header, while the stand-in sets three.
   */
  const httpModuleRef = await (await Test.createTestingModule({ imports: [BenchModule] }).compile()).init();
  httpModuleRef.get(HttpAdapterHost).httpAdapter = new ExpressAdapter();
  const guardsConsumer = new GuardsConsumer();
  const interceptorsConsumer = new InterceptorsConsumer();
  const socket = new Socket();
  const httpRequest = Object.assign(new IncomingMessage(socket), {
    method: 'GET',
    url: '/six',
    app: { settings: { 'trust proxy': false } },
  });
  Object.defineProperty(socket, 'remoteAddress', { value: '127.0.0.1' });
  const httpResponse = new ServerResponse(httpRequest);
  const six = proto.six as () => unknown;
  const sixEnhancers = (ref: ModuleRef) => {
    const sixGuard = new (enhancerOf<CanActivate>(GUARDS_METADATA, 'six'))(ref);
    sixGuard.onModuleInit();
    const sixInterceptor = new (enhancerOf<SyncInterceptor>(INTERCEPTORS_METADATA, 'six'))(ref);
    sixInterceptor.onModuleInit();
    return { sixGuard, sixInterceptor };
  };
  const throughNestOf = (instance: BenchController, args: unknown[]) => {
    const callSix = () => Promise.resolve(six.call(instance));
    return async (guard: CanActivate, interceptor: NestInterceptor): Promise<unknown> => {
      if (!(await guardsConsumer.tryActivate([guard], args, instance, six, 'http'))) throw new Error('refused');
      const result = (await interceptorsConsumer.intercept(
        [interceptor],
        args,
        instance,
        six,
        callSix,
        'http',
      )) as Observable<unknown>;
      return lastValueFrom(result);
    };
  };
  const throughNest = throughNestOf(httpModuleRef.get(BenchController), [httpRequest, httpResponse, undefined]);
  const express = sixEnhancers(httpModuleRef.get(ModuleRef));
  const standInGuard = new RateLimitStandInGuard();
  const standInInterceptor = new FusedStandInInterceptor();

  /**
   * The same on Fastify: a Nest Fastify app (not listening) of the bench module, and the request and reply of one
   * `inject()` of GET /six kept for every call (Fastify's `request.ip`, its `reply.header`, Nest's Fastify adapter).
   */
  const fastifyApp = await NestFactory.create<NestFastifyApplication>(BenchModule, new FastifyAdapter(), {
    logger: false,
  });
  let fastifyArgs: unknown[] | undefined;
  fastifyApp
    .getHttpAdapter()
    .getInstance()
    .addHook('preHandler', (request, reply, done) => {
      fastifyArgs ??= [request, reply, undefined];
      done();
    });
  await fastifyApp.init();
  await fastifyApp.getHttpAdapter().getInstance().ready();
  const injected = await fastifyApp.inject({ method: 'GET', url: '/six', remoteAddress: '127.0.0.1' });
  if (injected.statusCode !== 200 || fastifyArgs === undefined) throw new Error(`GET /six: ${injected.statusCode}`);
  const throughFastify = throughNestOf(fastifyApp.get(BenchController), fastifyArgs);
  const fastify = sixEnhancers(fastifyApp.get(ModuleRef));

  const settle = (observable: Observable<unknown>) =>
    new Promise<unknown>((resolve, reject) => observable.subscribe({ next: resolve, error: reject }));

  const cases: Record<InterceptorCaseName, BenchCase['run']> = {
    'noop-interceptor': () => settle(noopInterceptor.intercept(contexts.all, next)),
    'resilience-all': () => settle(interceptor.intercept(contexts.all, next)),
    'resilience-timeout': () => settle(interceptor.intercept(contexts.timeout, next)),
    'noop-guard': () => Promise.resolve(noopGuard.canActivate()),
    'ratelimit-guard': () => Promise.resolve(guard.canActivate(contexts.limited)),
    'post-bare': () => settle(nextPost() && postNext.handle()),
    'post-noop-interceptor': () => settle(noopInterceptor.intercept(nextPost(), postNext)),
    'post-idempotent-memory': () => settle(interceptor.intercept(nextPost(), postNext)),
    'nest-noop-both': () => throughNest(noopGuard, noopInterceptor),
    'nest-six-stand-ins': () => throughNest(standInGuard, standInInterceptor),
    'nest-six-decorators': () => throughNest(express.sixGuard, express.sixInterceptor),
    'nest-noop-both-fastify': () => throughFastify(noopGuard, noopInterceptor),
    'nest-six-stand-ins-fastify': () => throughFastify(standInGuard, standInInterceptor),
    'nest-six-decorators-fastify': () => throughFastify(fastify.sixGuard, fastify.sixInterceptor),
  };
  const close = async () => {
    await fastifyApp.close();
    await httpModuleRef.close();
    await moduleRef.close();
  };
  return { cases, close };
}
