import { Controller, Get, Injectable, Module, type ExecutionContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  RateLimit,
  RateLimitExceededError,
  ResilienceEvents,
  ResilienceModule,
  ResilienceService,
  SkipRateLimit,
  type ResilienceEventOf,
} from '../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from './http-harness.js';

// `rate-limit-rejected` (Polly's OnRejected) at every point where a rate limit refuses: a handler's several limits,
// a class's, the global ones, blockDuration, skipIf; a provider method; a ResilienceService pipeline.

const internal = (context: ExecutionContext) =>
  context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['x-internal'] === 'yes';

@Controller('api')
class ApiController {
  /** No decorator: the module's globalRateLimits apply. */
  @Get('plain')
  plain() {
    return { ok: true };
  }

  /** Two limits: "burst" (1) refuses the second request, "hourly" (3) is spent only by the admitted one. */
  @Get('multi')
  @RateLimit('burst')
  @RateLimit('hourly')
  multi() {
    return { ok: true };
  }

  @Get('login')
  @SkipRateLimit()
  @RateLimit({ limit: 1, interval: 1000, blockDuration: 60_000, skipIf: internal })
  login() {
    return { ok: true };
  }
}

@Controller('reports')
@RateLimit({ limit: 1, interval: 60_000, key: 'global' })
class ReportsController {
  @Get()
  list() {
    return [];
  }
}

@Injectable()
class Partner {
  calls = 0;

  @RateLimit({ limit: 1, interval: 60_000, key: (tenant: string) => tenant })
  async quote(tenant: string): Promise<string> {
    this.calls++;
    return `quote for ${tenant}`;
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot({
      rateLimits: {
        everywhere: { limit: 1, interval: 60_000 },
        burst: { limit: 1, interval: 60_000 },
        hourly: { limit: 3, interval: 3_600_000 },
        partner: { limit: 1, interval: 60_000 },
      },
      globalRateLimits: ['everywhere'],
    }),
  ],
  controllers: [ApiController, ReportsController],
  providers: [Partner],
})
class AppModule {}

const CLIENT = expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$/) as unknown as string;

describe.each(PLATFORMS)('rate-limit-rejected (%s)', (platform) => {
  let app: TestApp;
  let refusals: ResilienceEventOf<'rate-limit-rejected'>[];
  beforeEach(async () => {
    // The tests look at buckets of a minute or more: a frozen clock keeps them from refilling, however slow the run.
    vi.useFakeTimers({ toFake: ['Date'] });
    app = await createTestApp(platform, AppModule);
    refusals = [];
    app.app.get(ResilienceEvents).on('rate-limit-rejected', (event) => refusals.push(event));
  });
  afterEach(async () => {
    await app.close();
    vi.useRealTimers();
  });

  const statuses = async (path: string, count: number, headers: Record<string, string> = {}) => {
    const seen: number[] = [];
    for (let index = 0; index < count; index++) seen.push((await app.sendWith('GET', path, headers)).status);
    return seen;
  };

  it('a global limit: one event per refused request, none for the admitted one', async () => {
    expect(await statuses('/api/plain', 3)).toEqual([200, 429, 429]);
    expect(refusals).toEqual([
      {
        type: 'rate-limit-rejected',
        policy: 'everywhere',
        target: { className: 'ApiController', methodName: 'plain' },
        key: CLIENT,
        retryAfterMs: 60_000,
      },
      expect.objectContaining({ policy: 'everywhere', retryAfterMs: 60_000 }),
    ]);
  });

  it('several limits on a handler: the event names the limit that refused', async () => {
    expect(await statuses('/api/multi', 2)).toEqual([200, 429]);
    expect(refusals).toEqual([
      expect.objectContaining({ policy: 'burst', target: { className: 'ApiController', methodName: 'multi' } }),
    ]);
  });

  it('a class-level limit with a global key reports the key "global"', async () => {
    expect(await statuses('/reports', 2)).toEqual([200, 429]);
    expect(refusals).toEqual([
      expect.objectContaining({
        policy: 'ReportsController.list',
        target: { className: 'ReportsController', methodName: 'list' },
        key: 'global',
      }),
    ]);
  });

  it('blockDuration: every request refused while blocked is reported; skipIf requests are not', async () => {
    expect(await statuses('/api/login', 3)).toEqual([200, 429, 429]);
    expect(await statuses('/api/login', 2, { 'x-internal': 'yes' })).toEqual([200, 200]);
    expect(refusals.map((event) => [event.policy, event.retryAfterMs])).toEqual([
      ['ApiController.login', 60_000],
      ['ApiController.login', 60_000],
    ]);
  });

  it('a provider method and a ResilienceService pipeline report their refusals, with their keys', async () => {
    const partner = app.app.get(Partner);
    await expect(partner.quote('acme')).resolves.toBe('quote for acme');
    await expect(partner.quote('acme')).rejects.toBeInstanceOf(RateLimitExceededError);
    await expect(partner.quote('other')).resolves.toBe('quote for other');
    const service = app.app.get(ResilienceService);
    await expect(service.execute({ rateLimit: 'partner' }, () => 'sent')).resolves.toBe('sent');
    await expect(service.execute({ rateLimit: 'partner' }, () => 'sent')).rejects.toBeInstanceOf(
      RateLimitExceededError,
    );
    expect(partner.calls).toBe(2);
    expect(refusals).toEqual([
      expect.objectContaining({
        policy: 'Partner.quote',
        target: { className: 'Partner', methodName: 'quote' },
        key: 'acme',
        retryAfterMs: 60_000,
      }),
      expect.objectContaining({ policy: 'partner', key: 'global', retryAfterMs: 60_000 }),
    ]);
  });
});

describe('rate-limit-rejected without listeners', () => {
  it('a listener removed receives nothing more; refusals go on', async () => {
    @Module({ imports: [AppModule] })
    class Root {}
    const moduleRef = await Test.createTestingModule({ imports: [Root] }).compile();
    await moduleRef.init();
    try {
      const partner = moduleRef.get(Partner);
      const seen: string[] = [];
      const stop = moduleRef.get(ResilienceEvents).on('rate-limit-rejected', (event) => seen.push(event.key));
      await partner.quote('acme');
      await expect(partner.quote('acme')).rejects.toBeInstanceOf(RateLimitExceededError);
      stop();
      await expect(partner.quote('acme')).rejects.toBeInstanceOf(RateLimitExceededError);
      expect(seen).toEqual(['acme']);
    } finally {
      await moduleRef.close();
    }
  });
});
