import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RateLimit, ResilienceModule } from '../../lib/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { redisForSuite } from '../support/redis-suite.js';

/** `limit` tokens per hour (nothing refills within a test), burst `limit`, optionally blocking. */
const perHour = (limit: number, blockMs = 0) => ({ capacity: limit, refillPerMs: limit / 3_600_000, blockMs });
const spend = (key: string, rule: ReturnType<typeof perHour>) => ({ key, rule, cost: 1, maxWaitMs: 0 });

describe('several limits in one Redis script, against a real redis-server', () => {
  const redis = redisForSuite();
  let store: RedisStore;

  afterAll(async () => {
    await store?.close();
  });
  beforeEach(async () => {
    await store?.close();
    await redis.admin.flushall();
    store = new RedisStore({ url: redis.url, prefix: 'many:' });
  });

  it('spends from every bucket only when all admit: a refusal by one leaves the others untouched', async () => {
    const one = perHour(1);
    const three = perHour(3);
    const both = () => store.consumeAll([spend('a:x', one), spend('b:x', three)]);
    expect((await both()).map((decision) => decision.allowed)).toEqual([true, true]);
    const refused = await both();
    expect(refused.map((decision) => decision.allowed)).toEqual([false, true]);
    // "b" still has the two tokens the refused requests did not spend.
    expect(await store.consume('b:x', three, 1, 0)).toMatchObject({ allowed: true, remaining: 1 });
    expect(await store.consume('b:x', three, 1, 0)).toMatchObject({ allowed: true, remaining: 0 });
    expect((await store.consume('b:x', three, 1, 0)).allowed).toBe(false);
  });

  it('decides concurrent requests atomically: never more admitted than the tightest limit', async () => {
    const decisions = await Promise.all(
      Array.from({ length: 40 }, () => store.consumeAll([spend('a:y', perHour(5)), spend('b:y', perHour(20))])),
    );
    expect(decisions.filter((pair) => pair.every((decision) => decision.allowed))).toHaveLength(5);
    // Exactly five tokens of "b" were spent: 15 left.
    expect(await store.consume('b:y', perHour(20), 1, 0)).toMatchObject({ allowed: true, remaining: 14 });
  });

  it('blocks a refusing bucket for blockMs, refusing every call meanwhile', async () => {
    const blocking = perHour(1, 60_000);
    expect((await store.consume('c:z', blocking, 1, 0)).allowed).toBe(true);
    const refused = await store.consume('c:z', blocking, 1, 0);
    expect(refused).toMatchObject({ allowed: false, remaining: 0 });
    expect(refused.retryAfterMs).toBe(60_000);
    const pttl = await redis.admin.pttl('many:c:z');
    expect(pttl).toBeGreaterThan(60_000);
    expect((await store.consume('c:z', blocking, 1, 0)).retryAfterMs).toBeLessThanOrEqual(60_000);
  });
});

@Controller()
class MultiController {
  @Get()
  @RateLimit({ limit: 1, interval: 3_600_000 })
  @RateLimit({ limit: 3, interval: 3_600_000 })
  index() {
    return { ok: true };
  }
}

describe('a handler with two limits, buckets in Redis (Express)', () => {
  const redis = redisForSuite();
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
  });

  it('answers 429 from the tight limit without spending the other (its bucket in Redis shows it)', async () => {
    const store = new RedisStore({ url: redis.url, prefix: 'http:' });
    @Module({ imports: [ResilienceModule.forRoot({ store })], controllers: [MultiController] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = await moduleRef.createNestApplication({ logger: false }).init();
    const http = () => request(app!.getHttpServer() as Parameters<typeof request>[0]);
    expect((await http().get('/')).status).toBe(200);
    for (let index = 0; index < 3; index++) {
      const refused = await http().get('/');
      expect(refused.status).toBe(429);
      expect((refused.body as { policy: string }).policy).toBe('MultiController.index#1');
    }
    // The loose limit spent one token only (the admitted request): asked directly, it still has two.
    const loose = { capacity: 3, refillPerMs: 3 / 3_600_000 };
    expect(await store.consume('MultiController.index#2:127.0.0.1', loose, 1, 0)).toMatchObject({
      allowed: true,
      remaining: 1,
    });
  });
});
