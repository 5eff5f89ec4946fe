import { Controller, Get, Injectable, Module, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Throttle, ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Bulkhead, RateLimit, ResilienceModule, ResilienceRegistry, SkipRateLimit } from '../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from './http-harness.js';

const release: (() => void)[] = [];

@Injectable()
class ReportService {
  @Bulkhead('reports')
  async render(): Promise<string> {
    await new Promise<void>((resolve) => release.push(resolve));
    return 'report';
  }
}

@Controller()
@RateLimit({ limit: 2, interval: 60_000 })
class ApiController {
  constructor(private readonly reports: ReportService) {}

  @Get('limited')
  limited() {
    return { ok: true };
  }

  @Get('per-user')
  @RateLimit({
    limit: 1,
    interval: 60_000,
    key: (context: ExecutionContext) =>
      String(context.switchToHttp().getRequest<{ query: { user?: string } }>().query.user),
    legacyHeaders: true,
  })
  perUser() {
    return { ok: true };
  }

  @Get('quiet')
  @RateLimit({ limit: 1, interval: 30_000, headers: false })
  quiet() {
    return { ok: true };
  }

  @Get('free')
  @SkipRateLimit()
  free() {
    return { ok: true };
  }

  @Get('report')
  @SkipRateLimit()
  report() {
    return this.reports.render();
  }

  @Get('export')
  @SkipRateLimit()
  @Bulkhead({ maxConcurrent: 1 })
  async export() {
    await new Promise<void>((resolve) => release.push(resolve));
    return { exported: true };
  }
}

@Module({
  imports: [ResilienceModule.forRoot({ bulkheads: { reports: { maxConcurrent: 1, maxQueue: 1 } } })],
  controllers: [ApiController],
  providers: [ReportService],
})
class ApiModule {}

describe.each(PLATFORMS)('rate limits and bulkheads over HTTP on %s', (platform) => {
  let testApp: TestApp;
  // A frozen Date: the exact reset and Retry-After seconds hold however long the requests take (timers stay real).
  beforeEach(() => vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-24T10:00:00Z') }));
  afterEach(async () => {
    vi.useRealTimers();
    // Let every pending handler finish (a queued one may only start once the running one has).
    for (let i = 0; i < 20 && release.length; i++) {
      for (const resolve of release.splice(0)) resolve();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await testApp.close();
  });

  it('sends RateLimit-* headers and answers 429 with Retry-After once the bucket is empty', async () => {
    testApp = await createTestApp(platform, ApiModule);
    const first = await testApp.send('GET', '/limited');
    expect(first.status).toBe(200);
    expect(first.headers).toMatchObject({
      'ratelimit-limit': '2',
      'ratelimit-remaining': '1',
      'ratelimit-reset': '30',
    });
    expect((await testApp.send('GET', '/limited')).headers['ratelimit-remaining']).toBe('0');
    const refused = await testApp.send('GET', '/limited');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('30');
    expect(refused.body).toMatchObject({
      statusCode: 429,
      code: 'RATE_LIMIT_EXCEEDED',
      policy: 'ApiController.limited',
    });
    expect(refused.headers['x-ratelimit-limit']).toBeUndefined();
  });

  it('keys by a function of the request, with legacy headers on request', async () => {
    testApp = await createTestApp(platform, ApiModule);
    expect((await testApp.send('GET', '/per-user?user=ann')).status).toBe(200);
    expect((await testApp.send('GET', '/per-user?user=bob')).status).toBe(200);
    const refused = await testApp.send('GET', '/per-user?user=ann');
    expect(refused.status).toBe(429);
    expect(refused.headers).toMatchObject({ 'x-ratelimit-limit': '1', 'x-ratelimit-remaining': '0' });
  });

  it('sends no RateLimit-* header with headers: false, and still Retry-After on a refusal', async () => {
    testApp = await createTestApp(platform, ApiModule);
    const allowed = await testApp.send('GET', '/quiet');
    expect(allowed.status).toBe(200);
    expect(Object.keys(allowed.headers).filter((name) => name.includes('ratelimit'))).toEqual([]);
    const refused = await testApp.send('GET', '/quiet');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('30');
    expect(Object.keys(refused.headers).filter((name) => name.includes('ratelimit'))).toEqual([]);
  });

  it('exempts handlers marked @SkipRateLimit()', async () => {
    testApp = await createTestApp(platform, ApiModule);
    for (let i = 0; i < 5; i++) {
      const answer = await testApp.send('GET', '/free');
      expect(answer.status).toBe(200);
      expect(answer.headers['ratelimit-limit']).toBeUndefined();
    }
  });

  it('answers 503 when a service bulkhead is full, and the registry shows the load', async () => {
    testApp = await createTestApp(platform, ApiModule);
    const running = testApp.send('GET', '/report');
    const queued = testApp.send('GET', '/report');
    const reports = () =>
      testApp.app
        .get(ResilienceRegistry)
        .bulkheads.list()
        .find((bulkhead) => bulkhead.name === 'reports');
    await vi.waitFor(() => expect(reports()?.queued === 1).toBe(true));
    expect(reports()).toEqual({
      name: 'reports',
      active: 1,
      queued: 1,
      maxConcurrent: 1,
      maxQueue: 1,
      partitions: 1,
      limit: 1,
      rejected: 0,
    });
    const rejected = await testApp.send('GET', '/report');
    expect(rejected.status).toBe(503);
    expect(rejected.body).toMatchObject({ code: 'BULKHEAD_REJECTED', policy: 'reports' });
    release.shift()!();
    await vi.waitFor(() => expect(release.length === 1).toBe(true));
    release.shift()!();
    expect((await running).status).toBe(200);
    expect((await queued).status).toBe(200);
  });

  it('answers 503 when a controller bulkhead is full', async () => {
    testApp = await createTestApp(platform, ApiModule);
    const running = testApp.send('GET', '/export');
    await vi.waitFor(() => expect(release.length === 1).toBe(true));
    const rejected = await testApp.send('GET', '/export');
    expect(rejected.status).toBe(503);
    expect(rejected.body).toMatchObject({ code: 'BULKHEAD_REJECTED', policy: 'ApiController.export' });
    release.shift()!();
    expect((await running).status).toBe(200);
  });
});

describe('per client address', () => {
  @Controller()
  class IpController {
    @Get('ip')
    @RateLimit({ limit: 1, interval: 60_000 })
    ip() {
      return { ok: true };
    }
  }
  @Module({ imports: [ResilienceModule.forRoot()], controllers: [IpController] })
  class IpModule {}

  it('keeps separate buckets per client IP behind a trusted proxy (Express)', async () => {
    const testApp = await createTestApp('express', IpModule);
    const express = testApp.app.getHttpAdapter().getInstance() as { set(key: string, value: unknown): void };
    express.set('trust proxy', '127.0.0.1'); // the proxy's address, as the docs advise (never true)
    const from = (ip: string) => testApp.sendWith('GET', '/ip', { 'x-forwarded-for': ip });
    expect((await from('203.0.113.1')).status).toBe(200);
    expect((await from('203.0.113.2')).status).toBe(200);
    expect((await from('203.0.113.1')).status).toBe(429);
    // Two addresses of one IPv6 /64 share a bucket.
    expect((await from('2001:db8:1:2::a')).status).toBe(200);
    expect((await from('2001:db8:1:2::b')).status).toBe(429);
    await testApp.close();
  });

  it('keeps separate buckets per client IP on Fastify', async () => {
    const testApp = await createTestApp('fastify', IpModule);
    const from = (ip: string) => testApp.sendWith('GET', '/ip', {}, ip);
    expect((await from('198.51.100.1')).status).toBe(200);
    expect((await from('198.51.100.2')).status).toBe(200);
    expect((await from('198.51.100.1')).status).toBe(429);
    await testApp.close();
  });
});

describe('beside @nestjs/throttler', () => {
  @Controller()
  class MixedController {
    @Get('both')
    @Throttle({ default: { limit: 3, ttl: 60_000 } })
    @RateLimit({ limit: 1, interval: 60_000 })
    both() {
      return { ok: true };
    }

    @Get('throttled')
    @Throttle({ default: { limit: 1, ttl: 60_000 } })
    throttled() {
      return { ok: true };
    }
  }
  @Module({
    imports: [ThrottlerModule.forRoot([{ limit: 100, ttl: 60_000 }]), ResilienceModule.forRoot()],
    controllers: [MixedController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  })
  class MixedModule {}

  it.each(PLATFORMS)('each limit applies independently on %s', async (platform) => {
    const testApp = await createTestApp(platform, MixedModule);
    const first = await testApp.send('GET', '/both');
    expect(first.status).toBe(200);
    expect(first.headers['ratelimit-limit']).toBe('1');
    expect(first.headers['x-ratelimit-limit']).toBe('3'); // throttler's own header
    expect((await testApp.send('GET', '/both')).body).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    expect((await testApp.send('GET', '/throttled')).status).toBe(200);
    const throttled = await testApp.send('GET', '/throttled');
    expect(throttled.status).toBe(429);
    expect(throttled.headers['ratelimit-limit']).toBeUndefined(); // ours is not involved
    await testApp.close();
  });
});
