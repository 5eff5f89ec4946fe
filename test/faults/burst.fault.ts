import { Controller, Get, Module } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bulkhead, RateLimit, ResilienceModule, Timeout } from '../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../e2e/http-harness.js';

const LIMIT = 100;
const SLOTS = 4;
const QUEUE = 4;
const TIMEOUT = 300;

describe.each(PLATFORMS)('a burst that exhausts bulkheads and limits (%s)', (platform) => {
  let app: TestApp;
  let running = 0;
  let mostRunning = 0;

  beforeAll(async () => {
    @Controller()
    class BurstController {
      @Get('work')
      // An hour per `LIMIT` tokens: no token refills during the burst, however slow the machine, so the count is exact.
      @RateLimit({ limit: LIMIT, interval: 3_600_000, key: 'global' })
      @Timeout(TIMEOUT)
      @Bulkhead({ maxConcurrent: SLOTS, maxQueue: QUEUE })
      async work() {
        running++;
        mostRunning = Math.max(mostRunning, running);
        try {
          await sleep(50);
          return { ok: true };
        } finally {
          running--;
        }
      }

      @Get('ping')
      ping() {
        return { ok: true };
      }
    }
    @Module({ imports: [ResilienceModule.forRoot()], controllers: [BurstController] })
    class BurstModule {}
    app = await createTestApp(platform, BurstModule);
  });
  afterAll(() => app.close());

  it('never runs more than the slots, never admits more than the limit, answers every request in time', async () => {
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 300 }, async () => {
        const sent = performance.now();
        const { status } = await app.send('GET', '/work');
        return { status, took: performance.now() - sent };
      }),
    );
    const count = (status: number) => answers.filter((answer) => answer.status === status).length;
    expect(mostRunning).toBeLessThanOrEqual(SLOTS);
    expect(count(429)).toBe(300 - LIMIT); // the guard refused everything beyond the limit
    expect(count(200)).toBeGreaterThanOrEqual(SLOTS + QUEUE);
    expect(count(200) + count(503) + count(504)).toBe(LIMIT); // admitted ones: served, bulkhead full, or timed out
    expect(Math.max(...answers.map((answer) => answer.took))).toBeLessThan(TIMEOUT + 700);
    expect(performance.now() - started).toBeLessThan(5_000);
    // Keeps answering after the burst.
    expect((await app.send('GET', '/ping')).status).toBe(200);
    expect((await app.send('GET', '/work')).status).toBe(429);
    expect(running).toBe(0);
  });
});
