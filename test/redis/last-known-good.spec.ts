import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { Fallback, ResilienceModule } from '../../lib/index.js';
import { RedisLastKnownGoodStore, RedisStore } from '../../lib/redis/index.js';
import { redisForSuite } from '../support/redis-suite.js';

const upstream = { up: true };

@Injectable()
class PricesService {
  // refreshInterval: 30 s (the most maxAge allows), so no rewrite is due within a test however slow the machine.
  @Fallback([{ lastKnownGood: { maxAge: 60_000, refreshInterval: 30_000 } }, { value: 'no price' }])
  async price(symbol: string): Promise<string> {
    if (!upstream.up) throw new Error('prices upstream down');
    return `${symbol}=42`;
  }
}

/** One replica: its own RedisStore (its own connection) on the shared server. */
async function replica(url: string): Promise<{ prices: PricesService; close: () => Promise<void> }> {
  const store = new RedisStore({ url, prefix: 'lkg-test:' });
  @Module({
    imports: [ResilienceModule.forRoot({ store, lastKnownGoodStore: new RedisLastKnownGoodStore(store) })],
    providers: [PricesService],
  })
  class ReplicaModule {}
  const moduleRef: TestingModule = await Test.createTestingModule({ imports: [ReplicaModule] }).compile();
  await moduleRef.init();
  return { prices: moduleRef.get(PricesService), close: () => moduleRef.close() };
}

/** Calls of `command` the server has processed since it started (INFO commandstats). */
async function commandCalls(admin: Redis, command: string): Promise<number> {
  const info = await admin.info('commandstats');
  const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
  return match ? Number(match[1]) : 0;
}

/** Every command the server has processed since it started, but INFO (the test's own reads). */
async function allCommandCalls(admin: Redis): Promise<number> {
  let total = 0;
  for (const [, name, calls] of (await admin.info('commandstats')).matchAll(/cmdstat_(\w+):calls=(\d+)/g))
    if (name !== 'info') total += Number(calls);
  return total;
}

describe('last-known-good answers in Redis, shared by replicas', () => {
  const redis = redisForSuite();

  beforeEach(async () => {
    upstream.up = true;
    await redis.admin.flushall();
    await redis.admin.config('RESETSTAT');
  });

  it('serves on one replica the answer another replica remembered, with a TTL of maxAge', async () => {
    const [a, b] = [await replica(redis.url), await replica(redis.url)];
    try {
      await expect(a.prices.price('ACME')).resolves.toBe('ACME=42');
      const [key] = await vi_waitForKey(redis.admin);
      expect(await redis.admin.pttl(key)).toBeGreaterThan(59_000);
      upstream.up = false;
      await expect(b.prices.price('ACME')).resolves.toBe('ACME=42');
      await expect(b.prices.price('OTHER')).resolves.toBe('no price');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('costs one SET per key and refreshInterval on success, one GET per failure, nothing else', async () => {
    const a = await replica(redis.url);
    try {
      await a.prices.price('warm-up'); // connects and loads nothing else later
      await expect.poll(() => commandCalls(redis.admin, 'set')).toBe(1);
      const [sets, gets] = [await commandCalls(redis.admin, 'set'), await commandCalls(redis.admin, 'get')];
      const all = await allCommandCalls(redis.admin);
      for (let i = 0; i < 10; i++) await a.prices.price(`S${i}`);
      await expect.poll(() => commandCalls(redis.admin, 'set')).toBe(sets + 10);
      // The same keys again within refreshInterval: no write at all.
      for (let i = 0; i < 10; i++) await a.prices.price(`S${i}`);
      await a.prices.price('ACME');
      await expect.poll(() => commandCalls(redis.admin, 'set')).toBe(sets + 11);
      upstream.up = false;
      for (let i = 0; i < 5; i++) await expect(a.prices.price('ACME')).resolves.toBe('ACME=42');
      expect(await commandCalls(redis.admin, 'get')).toBe(gets + 5);
      expect(await commandCalls(redis.admin, 'set')).toBe(sets + 11);
      expect(await allCommandCalls(redis.admin)).toBe(all + 11 + 5); // nothing but those SETs and GETs
    } finally {
      await a.close();
    }
  });

  it('moves on to the next step when Redis is down, and a success still answers', async () => {
    const a = await replica(redis.url);
    try {
      await a.prices.price('ACME');
      await redis.server.stop();
      await expect(a.prices.price('ACME')).resolves.toBe('ACME=42'); // the write fails quietly
      upstream.up = false;
      await expect(a.prices.price('ACME')).resolves.toBe('no price');
    } finally {
      await a.close();
      await redis.server.restart();
      await redis.admin.ping(); // reconnected
    }
  });
});

/** The one last-known-good key, once the (background) write has landed. */
async function vi_waitForKey(admin: Redis): Promise<string[]> {
  let keys: string[] = [];
  await expect.poll(async () => (keys = await admin.keys('lkg-test:lkg:*')).length).toBe(1);
  return keys;
}
