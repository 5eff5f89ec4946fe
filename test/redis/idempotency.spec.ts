import { Body, Controller, Injectable, Module, Post, type Type } from '@nestjs/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Idempotent, ResilienceModule } from '../../lib/index.js';
import { RESILIENCE_MODULE_OPTIONS } from '../../lib/nest/options/resilience-module.token.js';
import { RedisStore } from '../../lib/redis/index.js';
import { createKeyedApp, type KeyedApp } from '../e2e/idempotency-http.js';
import type { ScriptedClient } from '../../lib/redis/scripted-client.js';
import { redisForSuite } from '../support/redis-suite.js';

const runs = { charge: 0, consume: 0 };
/** While set, `charge` waits for it instead of 100 ms: the test decides when the one running request ends. */
const hold: { gate?: Promise<void> } = {};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A gate a test holds handlers on until it opens it (unset: the handler runs on by itself). */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}
const gates: { consume?: Promise<void> } = {};

@Controller()
class ChargeController {
  @Post('charge')
  @Idempotent({ ttl: 1500 })
  async charge(@Body() body: { amount: number }) {
    const run = ++runs.charge;
    await (hold.gate ?? sleep(100));
    return { run, amount: body.amount };
  }

  @Post('open')
  @Idempotent({ onStoreError: 'allow' })
  open() {
    return { ok: true };
  }
}

@Injectable()
class EventConsumer {
  @Idempotent({ key: (event: { id: string }) => event.id })
  async consume(event: { id: string }): Promise<{ handled: string; run: number }> {
    const run = ++runs.consume;
    await (gates.consume ?? sleep(50));
    return { handled: event.id, run };
  }
}

/** One replica: its own Nest app and its own RedisStore (own connection) on the shared server. */
function replicaModule(url: string): Type {
  @Module({
    imports: [
      // commandTimeout 1 s, not 200 ms: on a loaded machine 20 concurrent acquires could outlast 200 ms and be
      // answered 503 (store unavailable), which is not what these tests are about; a paused Redis still times out.
      ResilienceModule.forRootAsync({
        useFactory: () => ({ store: new RedisStore({ url, prefix: 'idem:', commandTimeout: 1_000 }) }),
      }),
    ],
    controllers: [ChargeController],
    providers: [EventConsumer],
  })
  class ReplicaModule {}
  return ReplicaModule;
}

const key = () => ({ 'Idempotency-Key': `k-${Math.random().toString(36).slice(2)}` });

describe('@Idempotent with a real redis-server shared by two replicas', () => {
  const redis = redisForSuite();
  let replicas: KeyedApp[];

  beforeAll(async () => {
    replicas = [
      await createKeyedApp('express', replicaModule(redis.url)),
      await createKeyedApp('fastify', replicaModule(redis.url)),
    ];
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.close();
  });
  beforeEach(() => {
    runs.charge = 0;
    runs.consume = 0;
    gates.consume = hold.gate = undefined;
  });

  it('runs 20 concurrent requests with one key, spread over both replicas, exactly once', async () => {
    const headers = key();
    let finish!: () => void;
    hold.gate = new Promise<void>((resolve) => (finish = resolve));
    const requests = Array.from({ length: 20 }, (_, index) =>
      replicas[index % 2].post('/charge', { amount: 5 }, headers),
    );
    // Every request but the running one is answered while it runs, however slowly a loaded machine sends them.
    let answered = 0;
    for (const request of requests) void request.then(() => answered++);
    await vi.waitFor(() => expect(answered).toBe(19), { timeout: 10_000 });
    expect(runs.charge).toBe(1);
    hold.gate = undefined;
    finish();
    const answers = await Promise.all(requests);
    expect(runs.charge).toBe(1);
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 409)).toHaveLength(19);
    const replayed = await replicas[1].post('/charge', { amount: 5 }, headers);
    expect(replayed).toMatchObject({ status: 201, body: { run: 1, amount: 5 } });
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect((await replicas[0].post('/charge', { amount: 6 }, headers)).status).toBe(422);
  });

  it('forgets the answer after its ttl (Redis expiry)', async () => {
    const headers = key();
    await replicas[0].post('/charge', { amount: 1 }, headers);
    await replicas[1].post('/charge', { amount: 1 }, headers);
    expect(runs.charge).toBe(1);
    await sleep(1600);
    await replicas[1].post('/charge', { amount: 1 }, headers);
    expect(runs.charge).toBe(2);
  });

  it('costs one round trip before the handler and one after (MONITOR, commands sent by clients)', async () => {
    await replicas[0].post('/charge', { amount: 1 }, key()); // scripts loaded, connections ready
    const monitor = await redis.admin.duplicate().monitor();
    const sent: string[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua') sent.push(args[0].toLowerCase());
    });
    await sleep(50);
    await replicas[0].post('/charge', { amount: 1 }, key());
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    await sleep(50);
    monitor.disconnect();
    expect(sent).toEqual(['evalsha', 'evalsha']);
  });

  it('a late finisher whose lease ran out cannot overwrite the newer record', async () => {
    const store = new RedisStore({ url: redis.url, prefix: 'fencing:' });
    const records = store.idempotency;
    try {
      expect(await records.acquire('k', 'fp', 'slow', 100)).toEqual({ outcome: 'acquired' });
      expect(await records.acquire('k', 'fp', 'other', 100)).toMatchObject({ outcome: 'in-flight', fingerprint: 'fp' });
      await sleep(150); // the slow holder "crashed" or stalled: its lease expired in Redis
      expect(await records.acquire('k', 'fp', 'fresh', 5000)).toEqual({ outcome: 'acquired' });
      expect(await records.complete('k', 'slow', 'late answer', 60_000)).toBe(false);
      expect(await records.release('k', 'slow')).toBe(false);
      expect(await records.get('k')).toMatchObject({ state: 'in-flight', fingerprint: 'fp' });
      expect(await records.complete('k', 'fresh', 'fresh answer', 60_000)).toBe(true);
      expect(await records.get('k')).toEqual({ state: 'completed', fingerprint: 'fp', response: 'fresh answer' });
      expect(await redis.admin.pttl('fencing:idempotency:{k}')).toBeGreaterThan(59_000);
    } finally {
      await store.close();
    }
  });

  it('provider methods: the same key on both replicas runs once, joined while in flight', async () => {
    const consumers = replicas.map((replica) => replica.app.get(EventConsumer));
    const id = `evt-${Math.random()}`;
    const held = gate();
    gates.consume = held.opened;
    // The second replica's store: its call must find the key in flight (and wait), not arrive after the answer.
    const otherStore = replicas[1].app.get<unknown, { store: RedisStore }>(RESILIENCE_MODULE_OPTIONS).store.idempotency;
    const acquire = vi.spyOn(otherStore, 'acquire');
    let settled = 0;
    const pending = [consumers[0].consume({ id }), consumers[0].consume({ id }), consumers[1].consume({ id })].map(
      (call) => call.finally(() => settled++),
    );
    await vi.waitFor(async () => {
      expect(runs.consume).toBe(1);
      const outcomes = await Promise.all(acquire.mock.results.map((result) => result.value as Promise<unknown>));
      expect(outcomes).toContainEqual(expect.objectContaining({ outcome: 'in-flight' }));
    });
    expect(settled).toBe(0); // both joiners are waiting for the running call
    held.open();
    const results = await Promise.all(pending);
    acquire.mockRestore();
    expect(runs.consume).toBe(1);
    expect(results).toEqual([
      { handled: id, run: 1 },
      { handled: id, run: 1 },
      { handled: id, run: 1 },
    ]);
    expect(await consumers[1].consume({ id })).toEqual({ handled: id, run: 1 });
  });

  it('fails closed with 503 when Redis is down, unless onStoreError is allow', async () => {
    redis.server.pause();
    try {
      const refused = await replicas[0].post('/charge', { amount: 1 }, key());
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE' });
      expect(String(refused.headers['content-type'])).toContain('application/problem+json');
      expect(runs.charge).toBe(0);
      expect((await replicas[1].post('/open', {}, key())).status).toBe(201);
    } finally {
      redis.server.resume();
    }
  });

  it('an acquire answered 503 while Redis was paused never takes its lease later: the retry runs', async () => {
    for (const replica of replicas) {
      const headers = key();
      redis.server.pause();
      try {
        expect((await replica.post('/charge', { amount: 7 }, headers)).status).toBe(503);
      } finally {
        redis.server.resume();
      }
      // Redis now runs the stalled acquire, then its cancel (queued behind it on the same connection): no lease
      // is left for the retry to bump into (without the cancel: 409 for the whole lease).
      const retried = await replica.post('/charge', { amount: 7 }, headers);
      expect(retried).toMatchObject({ status: 201, body: { amount: 7 } });
    }
    expect(runs.charge).toBe(2);
  });

  it('a cancel that reaches Redis before its acquire (lost connection) makes the acquire refuse itself', async () => {
    const store = new RedisStore({ url: redis.url, prefix: 'cancel-first:' });
    const records = store.idempotency;
    try {
      await records.get('warm-up');
      const scripted = store.redis as ScriptedClient;
      const record = 'cancel-first:idempotency:{k}';
      expect(await scripted.nestResilienceIdempotencyCancel(record, `${record}:cancelled:t1`, 't1', 60_000)).toBe(0);
      await expect(records.acquire('k', 'fp', 't1', 60_000)).rejects.toThrow(/cancelled/);
      expect(await records.get('k')).toBeUndefined();
      expect(await records.acquire('k', 'fp', 't2', 60_000)).toEqual({ outcome: 'acquired' });
    } finally {
      await store.close();
    }
  });
});
