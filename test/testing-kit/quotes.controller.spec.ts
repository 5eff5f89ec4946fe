/**
 * Example spec for a controller, as docs/chaos-and-testing.md shows it: real HTTP (supertest), a rate limit
 * exhausted and reset, a breaker forced open and reset, and what one request did.
 */
import { Controller, Get, Injectable, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CircuitBreaker, RateLimit, ResilienceModule } from 'nest-resilience';
import { ResilienceTestKit, ResilienceTesting } from 'nest-resilience/testing';

@Injectable()
class QuotesSource {
  latest(): Promise<{ price: number }> {
    return Promise.resolve({ price: 42 });
  }
}

@Controller('quotes')
class QuotesController {
  constructor(private readonly source: QuotesSource) {}

  @Get()
  @RateLimit('quotes')
  @CircuitBreaker('quotes')
  latest(): Promise<{ price: number }> {
    return this.source.latest();
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot({
      rateLimits: { quotes: { limit: 100, interval: 60_000, key: 'global' } },
      circuitBreakers: { quotes: { consecutiveFailures: 5 } },
    }),
  ],
  controllers: [QuotesController],
  providers: [QuotesSource],
})
class QuotesModule {}

describe('QuotesController', () => {
  let app: INestApplication;
  let kit: ResilienceTestKit;

  beforeEach(async () => {
    const moduleRef = await ResilienceTesting.prepare(Test.createTestingModule({ imports: [QuotesModule] })).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    kit = ResilienceTestKit.from(app);
  });

  afterEach(() => app.close());

  const get = () => request(app.getHttpServer() as Parameters<typeof request>[0]).get('/quotes');

  it('answers 429 once the limit is spent, and 200 again once it is reset', async () => {
    await kit.exhaustRateLimit('quotes');
    const refused = await get();
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1'); // 100 a minute: the next token within 600 ms, rounded up
    await kit.resetRateLimit('quotes');
    expect((await get()).status).toBe(200);
  });

  it('answers 503 with Retry-After while the breaker is open', async () => {
    kit.forceOpen('quotes');
    const refused = await get();
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 'BROKEN_CIRCUIT', policy: 'quotes' });
    kit.resetCircuitBreaker('quotes');
    expect((await get()).body).toEqual({ price: 42 });
  });

  it('admits every request with the policies switched off, the rate limit included', async () => {
    await kit.exhaustRateLimit('quotes');
    kit.forceOpen('quotes');
    kit.disablePolicies();
    expect((await get()).body).toEqual({ price: 42 });
    kit.enablePolicies();
    expect((await get()).status).toBe(429);
  });

  it('reports what one request did through the policies', async () => {
    kit.forceOpen('quotes');
    const trace = await kit.trace(() => get());
    expect(trace.value?.status).toBe(503);
    expect(trace.attempts).toBe(1);
    expect(trace.fallback).toBeUndefined();
  });
});
