import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { describe, expect, it, vi } from 'vitest';
import { CircuitBreaker, RateLimit, ResilienceModule } from '../../lib/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { createTestApp, type Platform } from '../e2e/http-harness.js';
import { connectedClients } from '../support/redis-server.js';
import { redisForSuite } from '../support/redis-suite.js';
import { activeResources, heapAfterGc, MB } from './measure.js';

const CYCLES = 40;

describe('many app create/close cycles from one module (the README setup, as e2e suites use it)', () => {
  const redis = redisForSuite();

  it('every app reaches Redis, and connections, handles and heap come back to where they were', async () => {
    await redis.admin.ping();
    const baselineResources = activeResources(); // before the module (and its store) exist
    @Injectable()
    class Gateway {
      @CircuitBreaker('gateway')
      async charge(): Promise<string> {
        return 'paid';
      }
    }
    @Controller()
    class PayController {
      constructor(private readonly gateway: Gateway) {}

      @Get('pay')
      @RateLimit({ limit: 1, interval: 60_000 }) // per client address, kept in Redis across apps
      pay() {
        return this.gateway.charge();
      }
    }
    @Module({
      imports: [
        ResilienceModule.forRoot({
          // 'allow' on a store error: an Express cycle's 429 can only come from the bucket in Redis.
          store: new RedisStore({ url: redis.url, prefix: 'cycles:', onStoreError: 'allow' }),
          circuitBreakers: { gateway: { coordination: 'redis' } },
        }),
      ],
      controllers: [PayController],
      providers: [Gateway],
    })
    class AppModule {}

    const clients = () => connectedClients(redis.admin);
    let heapAtWarm = 0;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const platform: Platform = cycle % 2 ? 'fastify' : 'express';
      const app = await createTestApp(platform, AppModule);
      // One request per distinct client address on Fastify (remoteAddress), the shared loopback on Express.
      const answer = await app.sendWith('GET', '/pay', {}, `10.0.0.${cycle}`);
      if (platform === 'fastify' || cycle === 0) expect(answer.status, `cycle ${cycle}`).toBe(200);
      else expect(answer.status, `cycle ${cycle}: the loopback's token was spent in cycle 0`).toBe(429);
      await app.close();
      if (cycle === 9) heapAtWarm = heapAfterGc();
    }
    const grown = heapAfterGc() - heapAtWarm;
    // ... and a Fastify cycle's 200 reached Redis too: every client address it used has its bucket there.
    const buckets = await redis.admin.keys('cycles:*');
    for (let cycle = 1; cycle < CYCLES; cycle += 2)
      expect(
        buckets.some((key) => new RegExp(`10\\.0\\.0\\.${cycle}(?!\\d)`).test(key)),
        `cycle ${cycle}`,
      ).toBe(true);
    // Only this test's admin connection: every app's store connection was closed (once Redis has read the close).
    await vi.waitFor(async () => expect(await clients()).toBe(1));
    // Sockets close asynchronously (the HTTP client's keep-alive socket once it reads the server's FIN): wait for
    // them; a leaked socket never closes, and fails this after 5 s.
    await vi.waitFor(
      () => {
        const resources = activeResources();
        for (const type of ['TCPSocketWrap', 'TCPServerWrap'])
          expect(resources[type] ?? 0, type).toBe(baselineResources[type] ?? 0);
      },
      { timeout: 5_000 },
    );
    // 30 more apps after warm-up: module graphs, routes and Redis clients all collected.
    expect(grown).toBeLessThan(8 * MB);
  });
});
