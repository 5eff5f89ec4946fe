/**
 * What the library adds per request on a handler, beside Nest's own do-nothing interceptor and guard, measured
 * in-process (no HTTP, so the figure is ours and not the network's):
 *   node dist/bench/interceptor.js                  -> ns per request, every case, interleaved rounds
 *   node dist/bench/interceptor.js <case> <count>   -> runs one case <count> times (for instruction counts:
 *     valgrind --tool=callgrind --callgrind-out-file=/dev/null node dist/bench/interceptor.js <case> <count>)
 * Cases: noop-interceptor, resilience-all (Fallback, Retry, CircuitBreaker, Timeout, Bulkhead), resilience-timeout,
 * noop-guard, ratelimit-guard; and a POST with a JSON body and a new `Idempotency-Key` on every call: post-bare
 * (`next.handle()` alone), post-noop-interceptor, post-idempotent-memory (`@Idempotent()`, the default memory store:
 * acquire, run, complete, and past 10,000 keys one eviction per call).
 */
import 'reflect-metadata';
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
import { ModuleRef } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { Test } from '@nestjs/testing';
import { of, type Observable } from 'rxjs';
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
import { measure, type BenchCase } from './support/measure.js';
import { setting, smoke } from './support/smoke.js';
import { writeResults } from './support/results.js';

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

  @Get('timeout')
  @Timeout(5000)
  timeout() {
    return { hello: 'world' };
  }

  @Get('limited')
  @RateLimit({ limit: 1e12, interval: 1000 })
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

const settle = (observable: Observable<unknown>) =>
  new Promise<unknown>((resolve, reject) => observable.subscribe({ next: resolve, error: reject }));

const cases: Record<string, BenchCase['run']> = {
  'noop-interceptor': () => settle(noopInterceptor.intercept(contexts.all, next)),
  'resilience-all': () => settle(interceptor.intercept(contexts.all, next)),
  'resilience-timeout': () => settle(interceptor.intercept(contexts.timeout, next)),
  'noop-guard': () => Promise.resolve(noopGuard.canActivate()),
  'ratelimit-guard': () => Promise.resolve(guard.canActivate(contexts.limited)),
  'post-bare': () => settle(nextPost() && postNext.handle()),
  'post-noop-interceptor': () => settle(noopInterceptor.intercept(nextPost(), postNext)),
  'post-idempotent-memory': () => settle(interceptor.intercept(nextPost(), postNext)),
};

const [only, count] = process.argv.slice(2);
if (only !== undefined) {
  const run = cases[only];
  if (run === undefined) throw new Error(`unknown case ${only}: ${Object.keys(cases).join(', ')}`);
  for (let i = 0; i < Number(count ?? 10_000); i++) await run();
} else {
  const iterations = setting('BENCH_ITERATIONS', 50_000, 200);
  const results = await measure(
    Object.entries(cases).map(([name, run]) => ({ name, run })),
    smoke ? { iterations, rounds: 1, warmupRounds: 0 } : { iterations },
  );
  const ns = (name: string) => results.get(name)!;
  const lines = [
    `Per request, in-process, Node ${process.version} ` +
      `(median of 7 interleaved rounds of ${iterations.toLocaleString('en')})`,
    '',
    '| case | ns/request | added beside the do-nothing enhancer |',
    '| --- | ---: | ---: |',
    ...['noop-interceptor', 'resilience-all', 'resilience-timeout'].map(
      (name) => `| ${name} | ${ns(name).toFixed(0)} | ${(ns(name) - ns('noop-interceptor')).toFixed(0)} ns |`,
    ),
    ...['noop-guard', 'ratelimit-guard'].map(
      (name) => `| ${name} | ${ns(name).toFixed(0)} | ${(ns(name) - ns('noop-guard')).toFixed(0)} ns |`,
    ),
    ...['post-bare', 'post-noop-interceptor', 'post-idempotent-memory'].map((name) => {
      const added = name === 'post-bare' ? '-' : `${(ns(name) - ns('post-noop-interceptor')).toFixed(0)} ns`;
      return `| ${name} | ${ns(name).toFixed(0)} | ${added} |`;
    }),
  ];
  console.log(lines.join('\n'));
  writeResults('interceptor.md', lines.join('\n'));
}
await moduleRef.close();
