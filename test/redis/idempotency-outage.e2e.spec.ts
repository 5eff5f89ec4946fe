import { Controller, Module, Post, type Type } from '@nestjs/common';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Idempotent, ResilienceModule } from '../../lib/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { PLATFORMS } from '../e2e/http-harness.js';
import { createKeyedApp } from '../e2e/idempotency-http.js';
import { RedisServer } from '../support/redis-server.js';

/** The handler waits for the test to open the gate, so that Redis can be killed while it runs. */
let openGate: () => void = () => undefined;
let runs = 0;

@Controller()
class ChargeController {
  @Post('charge')
  @Idempotent()
  async charge(): Promise<{ run: number }> {
    const run = ++runs;
    await new Promise<void>((resolve) => (openGate = resolve));
    return { run };
  }
}

function appModule(url: string): Type {
  @Module({
    imports: [
      ResilienceModule.forRoot({
        store: new RedisStore({ url, commandTimeout: 100, redisOptions: { retryStrategy: () => 20 } }),
      }),
    ],
    controllers: [ChargeController],
  })
  class AppModule {}
  return AppModule;
}

describe.each(PLATFORMS)('Redis killed while an @Idempotent handler runs (%s)', (platform) => {
  let server: RedisServer;
  let dir: string;

  beforeAll(async () => {
    // With persistence: the lease survives the restart, as a production Redis's records do.
    dir = await mkdtemp(join(tmpdir(), 'idempotency-outage-'));
    server = await RedisServer.start(['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir]);
  });
  afterAll(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends the answer, stores it once Redis is back, and the retry replays it: the handler ran once', async () => {
    const app = await createKeyedApp(platform, appModule(server.url));
    try {
      runs = 0;
      const headers = { 'Idempotency-Key': `outage-${platform}` };
      const first = app.post('/charge', { amount: 42 }, headers);
      await vi.waitFor(() => expect(runs).toBe(1));
      await server.stop(); // complete now fails at once: the connection is gone
      openGate();
      const answer = await first;
      expect(answer.status).toBe(201);
      expect(answer.body).toEqual({ run: 1 });
      await server.restart();
      // Until the stored answer arrives the key is in flight (409); never run again, however long the wait.
      await vi.waitFor(
        async () => {
          const retry = await app.post('/charge', { amount: 42 }, headers);
          expect(retry.status).toBe(201);
          expect(retry.headers['idempotent-replayed']).toBe('true');
          expect(retry.body).toEqual({ run: 1 });
        },
        { timeout: 10_000, interval: 50 },
      );
      expect(runs).toBe(1);
    } finally {
      await app.close();
    }
  });
});
