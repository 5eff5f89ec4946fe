import { All, Body, Controller, Get, HttpCode, HttpException, Injectable, Module, Post, Scope } from '@nestjs/common';
import { defer, Observable, timer } from 'rxjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Fallback, ResilienceModule, Retry, Timeout, TimeoutSignal } from '../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from './http-harness.js';

const counters = {
  flaky: 0,
  post: 0,
  postAllowed: 0,
  any: 0,
  fallback: 0,
  streamSubscriptions: 0,
  streamTeardowns: 0,
  scoped: 0,
};
const aborted: boolean[] = [];

@Injectable()
class SlowService {
  @Timeout(50)
  async fetch(): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, 500));
    return 'late';
  }
}

@Controller()
class ResilientController {
  constructor(private readonly slowService: SlowService) {}

  @Get('slow')
  @Timeout(50)
  async slow() {
    await new Promise((resolve) => setTimeout(resolve, 500));
    return { late: true };
  }

  @Get('stream')
  @Timeout(50)
  stream(): Observable<string> {
    return new Observable<string>(() => {
      counters.streamSubscriptions++;
      return () => counters.streamTeardowns++;
    });
  }

  @Get('signal')
  @Timeout(50)
  async signal(@TimeoutSignal() signal: AbortSignal) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    aborted.push(signal.aborted);
    return { aborted: signal.aborted };
  }

  @Get('flaky')
  @Retry({ maxAttempts: 3, initialDelay: 1, jitter: 'none' })
  flaky() {
    counters.flaky++;
    if (counters.flaky < 3) throw new HttpException('upstream down', 503);
    return { calls: counters.flaky };
  }

  @Post('flaky')
  @Retry({ maxAttempts: 3, initialDelay: 1 })
  flakyPost() {
    counters.post++;
    throw new HttpException('upstream down', 503);
  }

  @Post('flaky-allowed')
  @Retry({ maxAttempts: 3, initialDelay: 1, retryNonIdempotent: true })
  flakyPostAllowed(@Body() body: { failures: number }) {
    counters.postAllowed++;
    if (counters.postAllowed <= body.failures) throw new HttpException('upstream down', 503);
    return { calls: counters.postAllowed };
  }

  /** One route for every method: whether a request may be repeated is known only per request. */
  @All('flaky-any')
  @Retry({ maxAttempts: 3, initialDelay: 1, jitter: 'none' })
  flakyAny() {
    counters.any++;
    throw new HttpException('upstream down', 503);
  }

  @Get('fallback')
  @Fallback('cached')
  @Retry({ maxAttempts: 2, initialDelay: 1 })
  withFallback(): Observable<unknown> {
    counters.fallback++;
    return defer(() =>
      timer(1).pipe(() => {
        throw new Error('no data');
      }),
    );
  }

  cached(error: Error) {
    return { cached: true, reason: error.message };
  }

  @Get('bad-request')
  @Retry({ maxAttempts: 3, initialDelay: 1 })
  badRequest() {
    counters.flaky++;
    throw new HttpException('you sent nonsense', 400);
  }

  @Get('service-timeout')
  serviceTimeout() {
    return this.slowService.fetch();
  }

  @Get('plain')
  plain() {
    return { plain: true };
  }
}

/** A new instance per request: its handlers are wrapped on the prototype, and `this` is the request's instance. */
@Controller({ path: 'scoped', scope: Scope.REQUEST })
class RequestScopedController {
  private readonly instanceAttempts: number[] = [];

  @Get()
  @HttpCode(202)
  @Retry({ maxAttempts: 3, initialDelay: 1 })
  async flaky() {
    counters.scoped++;
    this.instanceAttempts.push(counters.scoped);
    if (this.instanceAttempts.length < 3) throw new HttpException('upstream down', 503);
    return { attemptsOnThisInstance: this.instanceAttempts.length };
  }
}

@Module({
  imports: [ResilienceModule.forRoot()],
  controllers: [ResilientController, RequestScopedController],
  providers: [SlowService],
})
class HttpAppModule {}

describe.each(PLATFORMS)('controller handlers on %s', (platform) => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await createTestApp(platform, HttpAppModule);
  });
  afterAll(() => testApp.close());
  beforeEach(() => {
    for (const key of Object.keys(counters) as (keyof typeof counters)[]) counters[key] = 0;
    aborted.length = 0;
  });

  it('answers 504 with a JSON body naming the policy when a handler times out', async () => {
    const answer = await testApp.send('GET', '/slow');
    expect(answer.status).toBe(504);
    expect(answer.body).toEqual({
      statusCode: 504,
      error: 'Gateway Timeout',
      code: 'TIMEOUT',
      policy: 'ResilientController.slow',
      message: 'Timeout policy "ResilientController.slow" gave up: the call took longer than 50 ms',
    });
  });

  it('unsubscribes an Observable handler at the deadline', async () => {
    const answer = await testApp.send('GET', '/stream');
    expect(answer.status).toBe(504);
    expect(counters.streamSubscriptions).toBe(1);
    expect(counters.streamTeardowns).toBe(1);
  });

  it('aborts the @TimeoutSignal() of a handler that timed out', async () => {
    expect((await testApp.send('GET', '/signal')).status).toBe(504);
    await vi.waitFor(() => expect(aborted).toEqual([true])); // the handler records it when its signal aborts
  });

  it('retries a GET handler until it succeeds', async () => {
    const answer = await testApp.send('GET', '/flaky');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ calls: 3 });
  });

  it('does not retry a POST handler by default', async () => {
    const answer = await testApp.send('POST', '/flaky');
    expect(answer.status).toBe(503);
    expect(counters.post).toBe(1);
  });

  it('retries a POST handler when retryNonIdempotent is set', async () => {
    const answer = await testApp.send('POST', '/flaky-allowed', { failures: 2 });
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({ calls: 3 });
  });

  it('on an @All() route, retries a GET request and not a POST one', async () => {
    expect((await testApp.send('GET', '/flaky-any')).status).toBe(503);
    expect(counters.any).toBe(3);
    counters.any = 0;
    expect((await testApp.send('POST', '/flaky-any')).status).toBe(503);
    expect(counters.any).toBe(1);
  });

  it('does not retry a 400 and passes it on unchanged', async () => {
    const answer = await testApp.send('GET', '/bad-request');
    expect(answer.status).toBe(400);
    expect(counters.flaky).toBe(1);
  });

  it('answers with the fallback method after the retries are spent', async () => {
    const answer = await testApp.send('GET', '/fallback');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ cached: true, reason: 'no data' });
    expect(counters.fallback).toBe(2);
  });

  it("maps a decorated service's TimeoutError to 504 on an undecorated handler", async () => {
    const answer = await testApp.send('GET', '/service-timeout');
    expect(answer.status).toBe(504);
    expect(answer.body).toMatchObject({ code: 'TIMEOUT', policy: 'SlowService.fetch' });
  });

  it('wraps handlers of request-scoped controllers, keeping `this` and metadata such as @HttpCode', async () => {
    const first = await testApp.send('GET', '/scoped');
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ attemptsOnThisInstance: 3 });
    const second = await testApp.send('GET', '/scoped'); // a fresh instance: its own attempts
    expect(second.body).toEqual({ attemptsOnThisInstance: 3 });
    expect(counters.scoped).toBe(6);
  });

  it('leaves undecorated handlers alone', async () => {
    const answer = await testApp.send('GET', '/plain');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ plain: true });
  });
});
