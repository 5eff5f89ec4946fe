import { Body, Controller, Module, Post, type Type } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Idempotent, RateLimit, ResilienceModule } from '../../lib/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { createKeyedApp, type KeyedApp } from '../e2e/idempotency-http.js';
import { redisForSuite } from '../support/redis-suite.js';

const runs = { v1: 0, v2: 0 };

/** A v1 and a v2 `OrdersController`, each in its own module: the same class name, the same inline policies. */
function ordersModule(version: 'v1' | 'v2'): Type {
  @Controller(`${version}/orders`)
  class OrdersController {
    @Post('limited')
    @RateLimit({ limit: 1, interval: 60_000 })
    limited() {
      return { version };
    }

    @Post('charge')
    @Idempotent()
    charge(@Body() body: { amount: number }) {
      return { version, run: ++runs[version], amount: body.amount };
    }
  }
  const name = version === 'v1' ? 'OrdersV1Module' : 'OrdersV2Module';
  @Module({ controllers: [OrdersController] })
  class OrdersModule {}
  Object.defineProperty(OrdersModule, 'name', { value: name });
  return OrdersModule;
}

const V1 = ordersModule('v1');
const V2 = ordersModule('v2');

/** One replica: the same modules (the same code), its own RedisStore and connection on the shared server. */
function replicaModule(url: string): Type {
  @Module({ imports: [ResilienceModule.forRoot({ store: new RedisStore({ url, prefix: 'names:' }) }), V1, V2] })
  class ReplicaModule {}
  return ReplicaModule;
}

describe('two same-named controllers on two replicas sharing Redis', () => {
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

  it('keep apart in Redis, and each class has the same records and buckets on every replica', async () => {
    const key = { 'Idempotency-Key': 'order-7' };
    const [express, fastify] = replicas;
    expect(await express.post('/v1/orders/charge', { amount: 7 }, key)).toMatchObject({
      status: 201,
      body: { version: 'v1', run: 1 },
    });
    // The v2 class on the other replica: its own record, so it runs.
    const v2 = await fastify.post('/v2/orders/charge', { amount: 7 }, key);
    expect(v2).toMatchObject({ status: 201, body: { version: 'v2', run: 1 } });
    expect(v2.headers['idempotent-replayed']).toBeUndefined();
    // The v1 class on the other replica: the same record as on the first, replayed.
    const replayed = await fastify.post('/v1/orders/charge', { amount: 7 }, key);
    expect(replayed).toMatchObject({ status: 201, body: { version: 'v1', run: 1 } });
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(runs).toEqual({ v1: 1, v2: 1 });

    // One bucket per class, shared by the replicas: a limit of 1 admits one v1 and one v2 request in all.
    expect((await express.post('/v1/orders/limited', {})).status).toBe(201);
    expect((await fastify.post('/v1/orders/limited', {})).status).toBe(429);
    expect((await fastify.post('/v2/orders/limited', {})).status).toBe(201);
    expect((await express.post('/v2/orders/limited', {})).status).toBe(429);

    const keys = await redis.admin.keys('names:*');
    expect(keys.some((stored) => stored.includes('"OrdersController.charge"'))).toBe(true);
    expect(keys.some((stored) => stored.includes('"OrdersV2Module/OrdersController.charge"'))).toBe(true);
    expect(keys.some((stored) => stored.startsWith('names:OrdersController.limited:'))).toBe(true);
    expect(keys.some((stored) => stored.startsWith('names:OrdersV2Module/OrdersController.limited:'))).toBe(true);
  });
});
