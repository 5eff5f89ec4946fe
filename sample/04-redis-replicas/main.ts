/**
 * 04-redis-replicas: two replicas of one app share a rate limit through Redis.
 *   npm run build && node dist/sample/04-redis-replicas/main.js
 * Starts Debian's `redis-server` on a free loopback port (apt-get install redis-server), then two replicas, each
 * with `store: new RedisStore({ url })`, and sends six requests alternating between them: the shared limit of 3 a
 * minute admits three in all, not three per replica.
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RateLimit, ResilienceModule } from 'nest-resilience';
import { RedisStore } from 'nest-resilience/redis';

@Controller()
class QuotesController {
  /** One bucket for the whole service, whichever replica serves the request. */
  @Get('quote')
  @RateLimit({ limit: 3, interval: 60_000, key: 'global' })
  quote() {
    return { price: 42 };
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const redisPort = await freePort();
const redis = spawn('redis-server', [
  '--port',
  String(redisPort),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
]);
redis.on('error', (error) => {
  console.error(`could not start redis-server (${error.message}): apt-get install redis-server`);
  process.exit(1);
});
await new Promise<void>((resolve) =>
  redis.stdout.on('data', (chunk: Buffer) => chunk.includes('Ready to accept') && resolve()),
);

async function replica(name: string) {
  @Module({
    imports: [ResilienceModule.forRoot({ store: new RedisStore({ url: `redis://127.0.0.1:${redisPort}` }) })],
    controllers: [QuotesController],
  })
  class ReplicaModule {}
  const app = await NestFactory.create(ReplicaModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return { name, app, url: `${await app.getUrl()}/quote` };
}

const replicas = [await replica('replica A'), await replica('replica B')];
for (let request = 0; request < 6; request++) {
  const { name, url } = replicas[request % 2];
  const response = await fetch(url);
  console.log(`${name}: ${response.status} (RateLimit-Remaining: ${response.headers.get('ratelimit-remaining')})`);
}
for (const { app } of replicas) await app.close();
redis.kill();
await once(redis, 'exit');
