import { Module, type Type } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ResilienceModule } from '../../lib/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { quotaController } from '../support/quota-controller.js';
import { createTestApp, type TestApp } from '../e2e/http-harness.js';
import { RedisServer, connectedClients } from '../support/redis-server.js';

/** One replica of an app whose endpoint allows 10 requests per minute, with its buckets in the shared Redis. */
function replicaModule(url: string): Type {
  @Module({
    imports: [
      ResilienceModule.forRootAsync({ useFactory: () => ({ store: new RedisStore({ url, prefix: 'replicas:' }) }) }),
    ],
    controllers: [quotaController()],
  })
  class ReplicaModule {}
  return ReplicaModule;
}

describe('two replicas sharing one Redis', () => {
  let server: RedisServer;
  let replicas: TestApp[];

  beforeAll(async () => {
    server = await RedisServer.start();
    // Two Nest apps in one process, one on Express and one on Fastify, as two replicas behind a load balancer.
    replicas = [
      await createTestApp('express', replicaModule(server.url)),
      await createTestApp('fastify', replicaModule(server.url)),
    ];
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.close();
    await server.stop();
  });

  it('admits exactly the configured limit in total, not once per replica', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await replicas[i % 2].send('GET', '/quota')).status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20);
    // Requests alternate between the replicas: each served five of the ten, from one shared bucket.
    expect(statuses.slice(0, 10).every((status) => status === 200)).toBe(true);
    const refused = await replicas[1].send('GET', '/quota');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.headers['ratelimit-remaining']).toBe('0');
  });

  it('closes the Redis client it created when the app shuts down', async () => {
    const admin = new Redis(server.url);
    const clientsBefore = await connectedClients(admin);
    const extra = await createTestApp('express', replicaModule(server.url));
    await extra.send('GET', '/quota');
    await extra.close();
    // Redis counts the client gone once it has read the close: wait for that, not a fixed time.
    await vi.waitFor(async () => expect(await connectedClients(admin)).toBe(clientsBefore));
    admin.disconnect();
  });
});
