import { Controller, Get, Module } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimit, ResilienceModule } from '../../lib/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { createTestApp, type TestApp } from '../e2e/http-harness.js';
import { RedisServer } from '../support/redis-server.js';
import { concurrently } from './measure.js';

const COMMAND_TIMEOUT = 100;
/** What a request may take at most, Redis or not: the command timeout plus room for a loaded CI machine. */
const DEADLINE = COMMAND_TIMEOUT + 400;
const LIMIT = 40;
const INTERVAL = 60_000;

describe('Redis killed, paused and restarted under concurrent load', () => {
  let server: RedisServer;
  let app: TestApp;

  beforeAll(async () => {
    server = await RedisServer.start();
    @Controller()
    class ChaosController {
      @Get('limited')
      @RateLimit({ limit: LIMIT, interval: INTERVAL, key: 'global' })
      limited() {
        return { ok: true };
      }

      @Get('ping')
      ping() {
        return { ok: true };
      }
    }
    @Module({
      imports: [
        ResilienceModule.forRoot({
          // 'deny' while Redis cannot answer: then no decision is made outside the shared bucket, so the count of
          // admitted requests can be checked against the limit exactly.
          store: new RedisStore({
            url: server.url,
            commandTimeout: COMMAND_TIMEOUT,
            retryInterval: 200,
            onStoreError: 'deny',
          }),
        }),
      ],
      controllers: [ChaosController],
    })
    class ChaosModule {}
    app = await createTestApp('fastify', ChaosModule);
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
  });

  it('answers every request within its deadline, never admits more than the limit, and recovers', async () => {
    const started = performance.now();
    const statuses = new Map<number, number>();
    let slowest = 0;
    let stop = false;
    // Redis runs without persistence here: a restarted server has forgotten the buckets, so the limit holds per
    // server lifetime (documented in docs/faults.md).
    let lifetime = 0;
    const admittedIn = [0, 0];
    const load = concurrently(
      16,
      () => stop,
      async () => {
        const sent = performance.now();
        const { status } = await app.send('GET', '/limited');
        slowest = Math.max(slowest, performance.now() - sent);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 200) admittedIn[lifetime]++;
      },
    );
    await sleep(300);
    await server.stop(); // killed
    await sleep(500);
    await server.restart();
    lifetime = 1;
    await sleep(500);
    server.pause(); // SIGSTOP: connected but silent
    await sleep(800);
    server.resume();
    await sleep(500);
    stop = true;
    await load;
    const elapsed = performance.now() - started;

    const total = [...statuses.values()].reduce((sum, count) => sum + count, 0);
    // The bucket refills LIMIT per INTERVAL: over the run it may admit that much more than its capacity.
    const refill = Math.ceil((LIMIT * elapsed) / INTERVAL);
    expect(admittedIn[0]).toBeLessThanOrEqual(LIMIT + refill);
    expect(admittedIn[1]).toBeLessThanOrEqual(LIMIT + refill);
    expect(admittedIn[0]).toBeGreaterThanOrEqual(LIMIT); // the limit was reached before the kill: it was tested
    expect([...statuses.keys()].sort()).toEqual([200, 429]); // no 500: every outage decision is an answer
    expect(total).toBeGreaterThan(200); // the load really ran through the outages
    expect(slowest).toBeLessThan(DEADLINE);
    // Keeps answering: an undecorated route, and the limit from Redis again.
    expect((await app.send('GET', '/ping')).status).toBe(200);
    const after = await app.send('GET', '/limited');
    expect(after.status).toBe(429);
    expect(after.headers['ratelimit-remaining']).toBe('0');
  });
});
