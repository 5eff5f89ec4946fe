import { Controller, Get, HttpException, Module, type CallHandler, type NestInterceptor } from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants.js';
import { ModuleRef } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { Test, type TestingModule } from '@nestjs/testing';
import { Subject, type Observable } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ResilienceModule, Timeout, TimeoutError } from '../../lib/index.js';

@Controller()
class ReportsController {
  @Get('report')
  @Timeout(5000)
  report() {
    return 'report';
  }
}

@Module({ imports: [ResilienceModule.forRoot()], controllers: [ReportsController] })
class ReportsModule {}

/** What each subscriber of the interceptor's Observable received. */
interface Received {
  values: unknown[];
  error?: unknown;
  completed: boolean;
}

function record(observable: Observable<unknown>): Received {
  const received: Received = { values: [], completed: false };
  observable.subscribe({
    next: (value) => received.values.push(value),
    error: (error: unknown) => (received.error = error),
    complete: () => (received.completed = true),
  });
  return received;
}

/**
 * The pipeline's invocation doubles as the request's outermost sink (where resilience errors become the transport's
 * answer); these hold a second subscription to the same Observable to its own subscriber, as RxJS promises.
 */
describe('ResilienceInterceptor: each subscriber of its Observable gets its own answer', () => {
  let moduleRef: TestingModule | undefined;

  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });

  async function intercept(handled: Subject<unknown>): Promise<Observable<unknown>> {
    moduleRef = await Test.createTestingModule({ imports: [ReportsModule] }).compile();
    await moduleRef.init();
    const handler = ReportsController.prototype.report;
    const [Interceptor] = Reflect.getMetadata(INTERCEPTORS_METADATA, handler) as (new (
      moduleRef: ModuleRef,
    ) => NestInterceptor & { onModuleInit(): void })[];
    const interceptor = new Interceptor(moduleRef.get(ModuleRef));
    interceptor.onModuleInit();
    const context = new ExecutionContextHost([{ method: 'GET' }, {}, undefined], ReportsController, handler);
    context.setType('http');
    const next: CallHandler = { handle: () => handled.asObservable() };
    return interceptor.intercept(context, next) as Observable<unknown>;
  }

  it('maps a resilience error for both of two concurrent subscribers', async () => {
    const handled = new Subject<unknown>();
    const answer = await intercept(handled);
    const first = record(answer);
    const second = record(answer);
    handled.error(new TimeoutError('ReportsController.report', 10));
    for (const received of [first, second]) {
      expect(received.error).toBeInstanceOf(HttpException);
      expect((received.error as HttpException).getStatus()).toBe(504);
    }
  });

  it('passes the answer to both of two concurrent subscribers', async () => {
    const handled = new Subject<unknown>();
    const answer = await intercept(handled);
    const first = record(answer);
    const second = record(answer);
    handled.next('report');
    handled.complete();
    expect(first).toEqual({ values: ['report'], completed: true });
    expect(second).toEqual({ values: ['report'], completed: true });
  });

  it('answers a subscriber that comes after the first one ended', async () => {
    const handled = new Subject<unknown>();
    const answer = await intercept(handled);
    const first = record(answer);
    handled.error(new TimeoutError('ReportsController.report', 10));
    const second = record(answer);
    expect((first.error as HttpException).getStatus()).toBe(504);
    // The Subject has ended with that error: a late subscriber gets it at once, mapped too.
    expect((second.error as HttpException).getStatus()).toBe(504);
  });
});
