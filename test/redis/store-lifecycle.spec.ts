import { Controller, Get, Module, type Type } from '@nestjs/common';
import { describe, expect, it, vi } from 'vitest';
import {
  RateLimit,
  ResilienceEvents,
  ResilienceModule,
  ResilienceRegistry,
  type ResilienceEvent,
} from '../../lib/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { createTestApp } from '../e2e/http-harness.js';
import { connectedClients } from '../support/redis-server.js';
import { redisForSuite } from '../support/redis-suite.js';

let prefixes = 0;

/**
 * The README's setup: one module class with `store: new RedisStore({ url })`, from which many apps are built (as e2e
 * suites do). `onStoreError: 'allow'`: a store that cannot reach Redis would admit every request, so a limit that
 * holds proves Redis is reached.
 */
function appModule(url: string): { module: Type; store: RedisStore; prefix: string } {
  const prefix = `lifecycle-${prefixes++}:`;
  const store = new RedisStore({ url, prefix, onStoreError: 'allow' });
  @Controller('limited')
  class LimitedController {
    @Get()
    @RateLimit({ limit: 3, interval: 60_000, key: 'global' })
    read() {
      return { ok: true };
    }
  }
  @Module({ imports: [ResilienceModule.forRoot({ store })], controllers: [LimitedController] })
  class AppModule {}
  return { module: AppModule, store, prefix };
}

async function statuses(send: () => Promise<{ status: number }>, count: number): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < count; i++) seen.push((await send()).status);
  return seen;
}

describe('a RedisStore created from a URL, across the lifecycles of the apps built from one module', () => {
  const redis = redisForSuite();

  it('a limit of 3 admits exactly 3 in a second app built after the first closed', async () => {
    const { module } = appModule(redis.url);
    const first = await createTestApp('express', module);
    await first.close();
    const second = await createTestApp('express', module);
    try {
      expect(await statuses(() => second.send('GET', '/limited'), 5)).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await second.close();
    }
  });

  it('keeps the bucket in Redis across apps, on both platforms, for many create/close cycles', async () => {
    const { module, prefix } = appModule(redis.url);
    const seen: number[] = [];
    for (let cycle = 0; cycle < 6; cycle++) {
      const app = await createTestApp(cycle % 2 ? 'fastify' : 'express', module);
      seen.push(...(await statuses(() => app.send('GET', '/limited'), 1)));
      await app.close();
    }
    expect(seen).toEqual([200, 200, 200, 429, 429, 429]);
    expect(await redis.admin.exists(`${prefix}limited:global`)).toBe(0); // key names its limit: not ours to guess
    expect((await redis.admin.keys(`${prefix}*`)).length).toBe(1);
  });

  it('closes its connections when the last app shuts down, and only then', async () => {
    // Only this test's admin connection: the earlier tests' apps have closed theirs (Redis may not have read it yet).
    const baseline = 1;
    await vi.waitFor(async () => expect(await connectedClients(redis.admin)).toBe(baseline));
    const { module } = appModule(redis.url);
    const first = await createTestApp('express', module);
    const second = await createTestApp('fastify', module);
    await first.send('GET', '/limited');
    await first.close();
    // The second app still uses the store.
    expect((await second.send('GET', '/limited')).status).toBe(200);
    expect(await connectedClients(redis.admin)).toBeGreaterThan(baseline);
    await second.close();
    await vi.waitFor(async () => expect(await connectedClients(redis.admin)).toBe(baseline));
  });

  it('at the store API: attach, close, attach again, consume reaches Redis', async () => {
    const prefix = `lifecycle-api-${prefixes++}:`;
    const store = new RedisStore({ url: redis.url, prefix, onStoreError: 'deny' });
    const rule = { capacity: 3, refillPerMs: 3 / 60_000 };
    const firstApp = new ResilienceEvents();
    const errors: ResilienceEvent[] = [];
    new ResilienceRegistry(firstApp, store); // attaches, as the module does
    await store.close(); // the module's onApplicationShutdown
    const secondApp = new ResilienceEvents();
    secondApp.subscribe((event) => errors.push(event));
    new ResilienceRegistry(secondApp, store);
    const decisions = [];
    for (let i = 0; i < 5; i++) decisions.push((await store.consume('k', rule, 1, 0)).allowed);
    expect(decisions).toEqual([true, true, true, false, false]);
    expect(errors).toEqual([]);
    expect(await redis.admin.exists(`${prefix}k`)).toBe(1);
    await store.detach(secondApp);
  });
});
