import { Controller, Get, Module } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Bulkhead,
  RateLimit,
  ResilienceEvents,
  ResilienceModule,
  Timeout,
  type ResilienceEvent,
} from '../../lib/index.js';
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

  it('never runs more than the slots, never admits more than the limit, ends every request by a policy', async () => {
    // What the pipeline decided, server-side: no client-side wall clock (a loaded machine queues the client too).
    const events = app.app.get(ResilienceEvents);
    const seen: ResilienceEvent[] = [];
    const stops = [
      events.on('call-success', (event) => seen.push(event)),
      events.on('call-failure', (event) => seen.push(event)),
      events.on('timeout', (event) => seen.push(event)),
    ];
    const answers = await Promise.all(Array.from({ length: 300 }, () => app.send('GET', '/work')));
    for (const stop of stops) stop();
    const count = (status: number) => answers.filter((answer) => answer.status === status).length;
    const kind = (type: ResilienceEvent['type']) => seen.filter((event) => event.type === type).length;
    // A handler's slot is given back when its request times out (docs/reference.md, @Bulkhead: Nest hands interceptors
    // an Observable, not the handler's Promise), so each 504 (a loaded machine) may let one more handler run.
    expect(mostRunning).toBeLessThanOrEqual(SLOTS + count(504));
    expect(count(429)).toBe(300 - LIMIT); // the guard refused everything beyond the limit
    expect(count(200)).toBeGreaterThanOrEqual(SLOTS + QUEUE);
    expect(count(200) + count(503) + count(504)).toBe(LIMIT); // admitted ones: served, bulkhead full, or timed out
    // Every admitted request ended in the pipeline (none left hanging), and each 504 is a deadline the timeout
    // enforced: no request waited past its deadline for an answer the timeout did not give.
    expect(kind('call-success')).toBe(count(200));
    expect(kind('call-failure')).toBe(count(503) + count(504));
    expect(kind('timeout')).toBe(count(504));
    // Keeps answering after the burst.
    expect((await app.send('GET', '/ping')).status).toBe(200);
    expect((await app.send('GET', '/work')).status).toBe(429);
    expect(running).toBe(0);
  });
});
