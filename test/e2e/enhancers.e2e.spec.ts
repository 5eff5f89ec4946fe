import {
  Catch,
  Controller,
  Get,
  HttpException,
  Injectable,
  Module,
  Param,
  Post,
  UseInterceptors,
  type ArgumentsHost,
  type CallHandler,
  type ExceptionFilter,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { tap, type Observable } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Bulkhead, RateLimit, ResilienceModule, Retry, SkipRateLimit, Timeout, TimeoutError } from '../../lib/index.js';
import { createTestApp, PLATFORMS, type Platform, type TestApp } from './http-harness.js';

const seen: string[] = [];

/** Holds the report handler until the test opens it, so that a second request surely finds the slot taken. */
const reports: { gate?: Promise<void>; entered: string[] } = { entered: [] };

/** A user's interceptor that records every call it sees. */
@Injectable()
class RecordingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    seen.push('attempt');
    return next.handle();
  }
}

/** A user's global interceptor: records each request once, and what it finally got. */
@Injectable()
class GlobalInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    seen.push('request');
    return next.handle().pipe(tap({ error: (error: { status?: number }) => seen.push(`error ${error.status}`) }));
  }
}

/** A user's catch-all filter: answers 599 with what it received. */
@Catch()
class CatchAllFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): void {
    const response: unknown = host.switchToHttp().getResponse();
    const status = error instanceof HttpException ? error.getStatus() : 'none';
    const cause = error instanceof HttpException ? (error.cause as Error | undefined)?.name : undefined;
    const answer = { received: (error as Error).constructor.name, status, cause };
    const reply = response as {
      status?: (code: number) => { json?: (body: object) => void; send?: (body: object) => void };
    };
    const chained = reply.status!(599);
    if (chained.json) chained.json(answer);
    else chained.send!(answer);
  }
}

@Injectable()
class SlowService {
  @Timeout(20)
  async hang(): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, 500).unref());
    return 'late';
  }
}

let attempts = 0;

@Controller()
@RateLimit({ limit: 1, interval: 60_000 })
class ShopController {
  constructor(private readonly slow: SlowService) {}

  @Get('attempts')
  @UseInterceptors(RecordingInterceptor)
  @Retry({ maxAttempts: 3, initialDelay: 0 })
  @SkipRateLimit()
  flaky(): string {
    attempts++;
    if (attempts < 3) throw new HttpException('flaky', 503);
    return 'third time lucky';
  }

  @Get('decorated-timeout')
  @Timeout(20)
  @SkipRateLimit()
  async decoratedTimeout(): Promise<string> {
    return this.slow.hang();
  }

  @Get('undecorated')
  @SkipRateLimit()
  async undecorated(): Promise<string> {
    return this.slow.hang();
  }

  @Get('two-limits')
  @RateLimit({ limit: 3, interval: 1_000 })
  @RateLimit({ limit: 5, interval: 60_000 })
  twoLimits(): string {
    return 'ok';
  }

  @Get('class-limit')
  classLimit(): string {
    return 'ok';
  }

  @Post('tenants/:tenant/reports')
  @SkipRateLimit()
  @Bulkhead({
    maxConcurrent: 1,
    key: (context: ExecutionContext) =>
      context.switchToHttp().getRequest<{ params: { tenant: string } }>().params.tenant,
  })
  async report(@Param('tenant') tenant: string): Promise<string> {
    reports.entered.push(tenant);
    await reports.gate;
    return tenant;
  }
}

@Controller('skipped')
@SkipRateLimit()
class SkippedController {
  @Get()
  @RateLimit({ limit: 1, interval: 60_000 })
  ownLimit(): string {
    return 'ok';
  }
}

let testApp: TestApp | undefined;

afterEach(async () => {
  await testApp?.close();
  testApp = undefined;
  seen.length = 0;
  attempts = 0;
  vi.useRealTimers();
});

async function boot(
  platform: Platform,
  filters: 'none' | 'APP_FILTER' | 'useGlobalFilters' = 'none',
): Promise<TestApp> {
  @Module({
    imports: [ResilienceModule.forRoot()],
    controllers: [ShopController, SkippedController],
    providers: [SlowService, ...(filters === 'APP_FILTER' ? [{ provide: APP_FILTER, useClass: CatchAllFilter }] : [])],
  })
  class AppModule {}
  return createTestApp(platform, AppModule, (app) => {
    app.useGlobalInterceptors(new GlobalInterceptor());
    if (filters === 'useGlobalFilters') app.useGlobalFilters(new CatchAllFilter());
  });
}

describe.each(PLATFORMS)('with users’ own interceptors, filters and limits on %s', (platform) => {
  it('composes in Nest’s order: a global interceptor sees the request, one above @Retry each attempt', async () => {
    testApp = await boot(platform);
    const answer = await testApp.send('GET', '/attempts');
    expect(answer.status).toBe(200);
    expect(seen).toEqual(['request', 'attempt', 'attempt', 'attempt']);
  });

  it('hands a global interceptor the HTTP exception (504) that a decorated handler’s timeout became', async () => {
    testApp = await boot(platform);
    expect((await testApp.send('GET', '/decorated-timeout')).status).toBe(504);
    expect(seen).toEqual(['request', 'error 504']);
  });

  it.each(['APP_FILTER', 'useGlobalFilters'] as const)(
    'a catch-all filter (%s) receives an HttpException 504 whose cause is the TimeoutError, from a decorated handler',
    async (filters) => {
      testApp = await boot(platform, filters);
      const answer = await testApp.send('GET', '/decorated-timeout');
      expect(answer).toMatchObject({
        status: 599,
        body: { received: 'HttpException', status: 504, cause: 'TimeoutError' },
      });
    },
  );

  it('a useGlobalFilters catch-all gets a decorated service’s TimeoutError in an undecorated handler', async () => {
    testApp = await boot(platform, 'useGlobalFilters');
    const answer = await testApp.send('GET', '/undecorated');
    expect(answer).toMatchObject({ status: 599, body: { received: TimeoutError.name, status: 'none' } });
  });

  it('a catch-all APP_FILTER does not see that error: the library’s filter answers it (504) first', async () => {
    testApp = await boot(platform, 'APP_FILTER');
    const answer = await testApp.send('GET', '/undecorated');
    expect(answer).toMatchObject({ status: 504, body: { code: 'TIMEOUT', policy: 'SlowService.hang' } });
  });

  it('without a filter of yours, a decorated service’s timeout under an undecorated handler is a 504', async () => {
    testApp = await boot(platform);
    const answer = await testApp.send('GET', '/undecorated');
    expect(answer).toMatchObject({ status: 504, body: { code: 'TIMEOUT', policy: 'SlowService.hang' } });
  });

  it('spends a token of each of two limits per request; headers describe the one closest to exhaustion', async () => {
    testApp = await boot(platform);
    const first = await testApp.send('GET', '/two-limits');
    expect(first.status).toBe(200);
    expect(first.headers['ratelimit-limit']).toBe('3');
    expect(first.headers['ratelimit-remaining']).toBe('2');
    await testApp.send('GET', '/two-limits');
    await testApp.send('GET', '/two-limits');
    const refused = await testApp.send('GET', '/two-limits');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', policy: 'ShopController.twoLimits#1' });
  });

  it('refuses by the per-minute limit once it is the one exhausted, naming it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] }); // before boot: the buckets read this clock
    testApp = await boot(platform);
    for (let request = 0; request < 3; request++) expect((await testApp.send('GET', '/two-limits')).status).toBe(200);
    vi.setSystemTime(Date.now() + 1_000); // the per-second bucket refills, the per-minute one gains 1/12 of a token
    for (let request = 0; request < 2; request++) expect((await testApp.send('GET', '/two-limits')).status).toBe(200);
    const refused = await testApp.send('GET', '/two-limits');
    expect(refused.status).toBe(429);
    expect(refused.headers['ratelimit-limit']).toBe('5');
    expect(refused.body).toMatchObject({ policy: 'ShopController.twoLimits#2' });
  });

  it('applies a class-level @RateLimit once per request to handlers without their own', async () => {
    testApp = await boot(platform);
    expect((await testApp.send('GET', '/class-limit')).status).toBe(200);
    expect((await testApp.send('GET', '/class-limit')).status).toBe(429);
  });

  it('keeps a handler’s own @RateLimit under a class-level @SkipRateLimit()', async () => {
    testApp = await boot(platform);
    expect((await testApp.send('GET', '/skipped')).status).toBe(200);
    expect((await testApp.send('GET', '/skipped')).status).toBe(429);
  });

  it('gives handler key functions the ExecutionContext: one bulkhead compartment per tenant', async () => {
    const app = (testApp = await boot(platform));
    let open!: () => void;
    reports.gate = new Promise<void>((resolve) => (open = resolve));
    reports.entered = [];
    const statuses: number[] = [];
    const pending = ['a', 'a', 'b'].map((tenant) =>
      app.send('POST', `/tenants/${tenant}/reports`).then((answer) => statuses.push(answer.status)),
    );
    // Tenant a's second request is refused while its first holds the only slot; tenant b has a slot of its own.
    await vi.waitFor(() => {
      expect(statuses).toEqual([503]);
      expect([...reports.entered].sort()).toEqual(['a', 'b']);
    });
    open();
    await Promise.all(pending);
    reports.gate = undefined;
    expect(statuses).toEqual([503, 201, 201]);
  });
});

describe('@RateLimit on a provider class', () => {
  it('fails at bootstrap instead of doing nothing', async () => {
    @Injectable()
    @RateLimit({ limit: 1 })
    class Gateway {
      async charge(): Promise<void> {}
    }
    @Module({ imports: [ResilienceModule.forRoot()], providers: [Gateway] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await expect(moduleRef.init()).rejects.toThrow('@RateLimit on the class Gateway, which has no handler');
  });
});
