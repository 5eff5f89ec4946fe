import { Module, type Type } from '@nestjs/common';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ResilienceEvents, ResilienceModule, ResilienceRegistry, type ResilienceEvent } from '../../lib/index.js';
import { RedisStore, type StoreErrorMode } from '../../lib/redis/index.js';
import { quotaController } from '../support/quota-controller.js';
import { createTestApp, type TestApp } from '../e2e/http-harness.js';
import { RedisServer } from '../support/redis-server.js';

const COMMAND_TIMEOUT = 100;
const RETRY_INTERVAL = 200;

function appModule(url: string, onStoreError: StoreErrorMode): Type {
  @Module({
    imports: [
      ResilienceModule.forRoot({
        store: new RedisStore({
          url,
          onStoreError,
          replicas: 2,
          commandTimeout: COMMAND_TIMEOUT,
          retryInterval: RETRY_INTERVAL,
        }),
      }),
    ],
    controllers: [quotaController()],
  })
  class AppModule {}
  return AppModule;
}

/** Sends `count` requests one after the other; returns their statuses. */
async function burst(app: TestApp, count: number): Promise<{ statuses: number[] }> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push((await app.send('GET', '/quota')).status);
  return { statuses };
}

const count = (statuses: number[], status: number) => statuses.filter((entry) => entry === status).length;

describe('rate limits while Redis is in trouble', () => {
  let server: RedisServer;
  let app: TestApp | undefined;
  let events: ResilienceEvent[];

  async function start(mode: StoreErrorMode): Promise<TestApp> {
    const admin = new Redis(server.url);
    await admin.flushall();
    admin.disconnect();
    app = await createTestApp('express', appModule(server.url, mode));
    events = [];
    app.app.get(ResilienceEvents).subscribe((event) => events.push(event));
    return app;
  }

  /** Restarts Redis (empty: no persistence) and waits until the store's client is connected and may try it again. */
  async function recover(): Promise<void> {
    await server.restart();
    const store = app!.app.get(ResilienceRegistry).store as RedisStore;
    while (store.redis.status !== 'ready') await sleep(20);
    await sleep(RETRY_INTERVAL);
  }

  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    if (!(await isUp(server))) await server.restart();
  });
  afterAll(() => server.stop());

  it.each([
    ['allow', 10, 0],
    ['deny', 0, 10],
    ['local', 5, 5], // limit 10 shared by replicas: 2, so 5 here
  ] as const)(
    'Redis stopped, onStoreError "%s": %i allowed, %i refused, each decided by the fallback, ' +
      'then Redis limits again',
    async (mode, allowed, refused) => {
      const replica = await start(mode);
      expect((await burst(replica, 1)).statuses).toEqual([200]); // Redis up: one token spent in Redis
      await server.stop();
      const down = await burst(replica, 10);
      expect(count(down.statuses, 200)).toBe(allowed);
      expect(count(down.statuses, 429)).toBe(refused);
      // No wall-clock bound here (test/faults/redis-chaos.fault.ts keeps one): every answer is the fallback's.
      const degraded = events.filter((event) => event.type === 'rate-limit-store-error');
      expect(degraded).toHaveLength(10);
      expect(degraded.every((event) => event.decision === mode)).toBe(true);

      await recover();
      const up = await burst(replica, 12);
      expect(up.statuses.slice(0, 10)).toEqual(Array(10).fill(200)); // the restarted Redis starts with a full bucket
      expect(up.statuses.slice(10)).toEqual([429, 429]);
      expect(events.filter((event) => event.type === 'rate-limit-store-recovered')).toHaveLength(1);
    },
  );

  it('Redis paused (connected, silent): the fallback answers at the command timeout, then Redis limits', async () => {
    const replica = await start('allow');
    await burst(replica, 1);
    server.pause();
    try {
      const stuck = await burst(replica, 5);
      expect(stuck.statuses).toEqual(Array(5).fill(200));
      // Each answer came from the fallback after the command timeout, not from a late Redis reply.
      const degraded = events.filter((event) => event.type === 'rate-limit-store-error');
      expect(degraded).toHaveLength(5);
      expect(degraded.every((event) => event.decision === 'allow')).toBe(true);
    } finally {
      server.resume();
    }
    await sleep(RETRY_INTERVAL + 50);
    const up = await burst(replica, 10);
    // 1 spent before the pause and 9 now; the paused calls never reached Redis's bucket, or reached it late.
    expect(count(up.statuses, 200)).toBeLessThanOrEqual(9);
    expect(up.statuses.at(-1)).toBe(429);
    expect(events.some((event) => event.type === 'rate-limit-store-recovered')).toBe(true);
  });
});

async function isUp(server: RedisServer): Promise<boolean> {
  const probe = new Redis(server.url, { lazyConnect: true, retryStrategy: () => null, enableOfflineQueue: false });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
