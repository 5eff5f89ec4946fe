/**
 * The testing kit's switch on a handler's `@Idempotent`: with the policies off, a repeated keyed POST runs the
 * handler each time (business logic alone), on Express and Fastify over real HTTP.
 */
import { Body, Controller, Module, Post, type INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { Idempotent, ResilienceModule } from 'nest-resilience';
import { ResilienceTestKit, ResilienceTesting } from 'nest-resilience/testing';

@Controller('orders')
class OrdersController {
  created = 0;

  @Post()
  @Idempotent()
  create(@Body() order: { sku: string }): { id: number; sku: string } {
    this.created++;
    return { id: this.created, sku: order.sku };
  }
}

@Module({ imports: [ResilienceModule.forRoot()], controllers: [OrdersController] })
class OrdersModule {}

async function start(platform: 'express' | 'fastify'): Promise<INestApplication> {
  const moduleRef = await ResilienceTesting.prepare(Test.createTestingModule({ imports: [OrdersModule] })).compile();
  if (platform === 'express') {
    const app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
    await app.init();
    return app;
  }
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

describe.each(['express', 'fastify'] as const)('OrdersController on %s', (platform) => {
  let app: INestApplication;
  afterEach(() => app.close());

  const post = () =>
    request(app.getHttpServer() as Parameters<typeof request>[0])
      .post('/orders')
      .set('Idempotency-Key', 'order-1')
      .send({ sku: 'A-1' });

  it('runs the handler on every keyed POST while the policies are off, and replays again once on', async () => {
    app = await start(platform);
    const kit = ResilienceTestKit.from(app);
    const orders = app.get(OrdersController);

    kit.disablePolicies();
    expect((await post()).body).toEqual({ id: 1, sku: 'A-1' });
    const second = await post();
    expect(second.body).toEqual({ id: 2, sku: 'A-1' });
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(orders.created).toBe(2);

    kit.enablePolicies();
    expect((await post()).body).toEqual({ id: 3, sku: 'A-1' }); // nothing was stored while off
    const replayed = await post();
    expect(replayed.body).toEqual({ id: 3, sku: 'A-1' });
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(orders.created).toBe(3);
  });
});
