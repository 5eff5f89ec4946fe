import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResilienceConfigError } from '../../lib/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { redisForSuite } from '../support/redis-suite.js';

/** `limit` tokens per `interval` ms, burst `limit`: the rule the memory store would use. */
const rule = (limit: number, interval: number) => ({ capacity: limit, refillPerMs: limit / interval });

describe('RedisStore against a real redis-server', () => {
  const redis = redisForSuite();
  let store: RedisStore;

  afterAll(async () => {
    await store?.close();
  });
  beforeEach(async () => {
    await store?.close();
    await redis.admin.flushall();
    store = new RedisStore({ url: redis.url, prefix: 'test:' });
    await redis.admin.ping();
  });

  it('delete forgets a bucket: the next call finds it full', async () => {
    const bucket = rule(2, 60_000);
    await store.consume('api:a', bucket, 1, 0);
    await store.consume('api:a', bucket, 1, 0);
    expect((await store.consume('api:a', bucket, 1, 0)).allowed).toBe(false);
    await store.delete('api:a');
    expect(await store.consume('api:a', bucket, 1, 0)).toMatchObject({ allowed: true, remaining: 1 });
  });

  it('spends a burst, then refuses with the wait for the next token, then refills at the sustained rate', async () => {
    // 5 a minute: one token every 12 s, so no token refills between these six round trips however slow the machine.
    const bucket = rule(5, 60_000);
    const decisions = [];
    for (let i = 0; i < 6; i++) decisions.push(await store.consume('api:a', bucket, 1, 0));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0, 0]);
    expect(decisions[5].retryAfterMs).toBeGreaterThan(11_000);
    expect(decisions[5].retryAfterMs).toBeLessThanOrEqual(12_000);
    // The refill, on a bucket of one token every 100 ms: refused, then allowed once the wait it named is over.
    const fast = rule(1, 100);
    expect((await store.consume('api:fast', fast, 1, 0)).allowed).toBe(true);
    const refused = await store.consume('api:fast', fast, 1, 0);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(100);
    await sleep(refused.retryAfterMs + 20);
    expect((await store.consume('api:fast', fast, 1, 0)).allowed).toBe(true);
  });

  it('keeps keys apart, spends `cost` tokens and reserves tokens for a caller allowed to wait', async () => {
    // One token every 10 s: the wait named below is about 10 s whatever the round trips took.
    const bucket = rule(10, 100_000);
    expect(await store.consume('api:a', bucket, 8, 0)).toMatchObject({ allowed: true, remaining: 2 });
    expect(await store.consume('api:b', bucket, 1, 0)).toMatchObject({ allowed: true, remaining: 9 });
    expect(await store.consume('api:a', bucket, 3, 0)).toMatchObject({ allowed: false });
    const waiting = await store.consume('api:a', bucket, 3, 15_000);
    expect(waiting.allowed).toBe(true);
    expect(waiting.waitMs).toBeGreaterThan(9_000);
    expect(waiting.waitMs).toBeLessThanOrEqual(10_000);
  });

  it('writes prefixed keys living until the bucket would be full (not much longer), deletes full buckets', async () => {
    await store.consume('api:a', rule(10, 10_000), 1, 0); // one token per second: full again in 1 s
    expect(await redis.admin.keys('*')).toEqual(['test:api:a']);
    const ttl = await redis.admin.pttl('test:api:a');
    expect(ttl).toBeGreaterThan(1_000);
    expect(ttl).toBeLessThanOrEqual(3_000); // twice the refill time + 1 s
    await store.consume('api:b', rule(10, 10_000), 0, 0); // costs nothing: the bucket stays full
    expect(await redis.admin.exists('test:api:b')).toBe(0);
  });

  it('makes one round trip per check: the script is loaded once and then called by its SHA', async () => {
    const bucket = rule(100, 1000);
    await store.consume('api:a', bucket, 1, 0);
    const before = await commandCalls(redis.admin);
    for (let i = 0; i < 20; i++) await store.consume('api:a', bucket, 1, 0);
    const after = await commandCalls(redis.admin);
    expect(after.evalsha - before.evalsha).toBe(20);
    expect(after.eval - before.eval).toBe(0);
  });

  it('sends the checks of one tick as one script call before the event loop turns, each decided exactly', async () => {
    const bucket = rule(30, 60_000);
    // Connected, and the batch script loaded on this connection (two checks in one tick).
    await Promise.all([store.consume('api:warm', bucket, 1, 0), store.consume('api:warm', bucket, 1, 0)]);
    const socket = (store.redis as Redis).stream;
    // The Writable hooks a socket hands data to the OS with: `_write` per chunk, `_writev` for a corked batch.
    const write = vi.spyOn(socket, '_write');
    const writev = vi.spyOn(socket, '_writev');
    const before = await commandCalls(redis.admin);
    const checks = Array.from({ length: 50 }, () => store.consume('api:a', bucket, 1, 0));
    expect(write).not.toHaveBeenCalled(); // held for the rest of the tick...
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(socket.writableLength).toBe(0); // ...and gone before any I/O or timer could run, in one write
    expect(write.mock.calls.length + writev.mock.calls.length).toBe(1);
    const decisions = await Promise.all(checks);
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(30);
    expect(decisions.slice(30).every((decision) => !decision.allowed && decision.retryAfterMs > 0)).toBe(true);
    const after = await commandCalls(redis.admin);
    expect(after.evalsha - before.evalsha).toBe(1); // the 50 checks, one script call by its SHA
    expect(after.eval - before.eval).toBe(0);
    write.mockRestore();
    writev.mockRestore();
  });

  it('splits a burst of one tick into calls of at most 128 checks, still deciding each exactly', async () => {
    const bucket = rule(200, 60_000);
    await Promise.all([store.consume('api:warm', bucket, 1, 0), store.consume('api:warm', bucket, 1, 0)]);
    const before = await commandCalls(redis.admin);
    const decisions = await Promise.all(Array.from({ length: 300 }, () => store.consume('api:a', bucket, 1, 0)));
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(200);
    expect(decisions.slice(200).every((decision) => !decision.allowed)).toBe(true);
    const after = await commandCalls(redis.admin);
    expect(after.evalsha - before.evalsha).toBe(3); // 128 + 128 + 44
  });

  it('decides each check of one tick on its own: a refusal spends nothing of the other checks', async () => {
    const one = rule(1, 60_000);
    const blocking = { ...rule(1, 60_000), blockMs: 5_000 };
    const [a1, b1, a2, b2, c1, c2, d1] = await Promise.all([
      store.consume('api:a', one, 1, 0),
      store.consume('api:b', rule(10, 60_000), 3, 0),
      store.consume('api:a', one, 1, 0),
      store.consume('api:b', rule(10, 60_000), 3, 0),
      store.consume('api:c', blocking, 1, 0),
      store.consume('api:c', blocking, 1, 0),
      store.consume('api:d', one, 2, 0), // more than the bucket holds: refused, and spends nothing
    ]);
    expect([a1.allowed, a2.allowed]).toEqual([true, false]);
    expect([b1, b2]).toMatchObject([
      { allowed: true, remaining: 7 },
      { allowed: true, remaining: 4 },
    ]);
    expect(c1.allowed).toBe(true);
    expect(c2).toMatchObject({ allowed: false, retryAfterMs: 5_000 });
    expect(d1.allowed).toBe(false);
    expect(await redis.admin.exists('test:api:d')).toBe(0);
    expect(await store.consume('api:b', rule(10, 60_000), 4, 0)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('rejects invalid options naming the option', () => {
    expect(() => new RedisStore({})).toThrow(ResilienceConfigError);
    expect(() => new RedisStore({ url: redis.url, commandTimeout: 0 })).toThrow(/"commandTimeout"/);
    expect(() => new RedisStore({ url: redis.url, onStoreError: 'maybe' as never })).toThrow(/"onStoreError"/);
    expect(() => new RedisStore({ url: redis.url, replicas: 0 })).toThrow(/"replicas"/);
  });
});

/** Calls of EVAL and EVALSHA the server has run so far. */
async function commandCalls(admin: Redis): Promise<{ eval: number; evalsha: number }> {
  const stats = await admin.info('commandstats');
  const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  return { eval: calls('eval'), evalsha: calls('evalsha') };
}
