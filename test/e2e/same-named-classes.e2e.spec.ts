import { Body, Controller, HttpException, Injectable, Logger, Module, Post, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker, Idempotent, RateLimit, ResilienceModule, ResilienceRegistry, Retry } from '../../lib/index.js';
import { PLATFORMS } from './http-harness.js';
import { createKeyedApp, type KeyedApp } from './idempotency-http.js';

/** What each version's handlers and services ran. */
const runs = { v1: 0, v2: 0, paymentsV1: 0, paymentsV2: 0 };
const failing = { v1: false, v2: false };

/**
 * Two controllers called `OrdersController` (a v1 and a v2 of the API, each in its own module), with the same inline
 * policies: identity is the class, so they share nothing.
 */
function ordersController(version: 'v1' | 'v2'): Type {
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

    @Post('flaky')
    @CircuitBreaker({ minimumCalls: 2, failureRateThreshold: 50, openDuration: 60_000 })
    flaky() {
      if (failing[version]) throw new HttpException('downstream failed', 502);
      return { version };
    }
  }
  return OrdersController;
}

/** Two services called `PaymentsService`, one per module, with the same inline policies. */
function paymentsService(version: 'V1' | 'V2'): Type {
  @Injectable()
  class PaymentsService {
    @Idempotent({ key: (orderId: string) => orderId })
    @Retry({ maxAttempts: 2, initialDelay: 1 })
    async charge(orderId: string): Promise<string> {
      runs[`payments${version}`]++;
      return `${version} charged ${orderId}`;
    }
  }
  return PaymentsService;
}

const OrdersV1 = ordersController('v1');
const OrdersV2 = ordersController('v2');
const PaymentsV1 = paymentsService('V1');
const PaymentsV2 = paymentsService('V2');

@Module({ controllers: [OrdersV1], providers: [PaymentsV1] })
class OrdersV1Module {}

@Module({ controllers: [OrdersV2], providers: [PaymentsV2] })
class OrdersV2Module {}

@Module({ imports: [ResilienceModule.forRoot({ metrics: true }), OrdersV1Module, OrdersV2Module] })
class AppModule {}

describe.each(PLATFORMS)('two classes with the same name in two modules (%s)', (platform) => {
  let app: KeyedApp;
  let warnings: string[];

  beforeEach(async () => {
    Object.assign(runs, { v1: 0, v2: 0, paymentsV1: 0, paymentsV2: 0 });
    Object.assign(failing, { v1: false, v2: false });
    warnings = [];
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(function (this: Logger, message: unknown) {
      warnings.push(String(message));
    });
    app = await createKeyedApp(platform, AppModule);
  });

  afterEach(async () => {
    await app.close();
    vi.restoreAllMocks();
  });

  it('are named apart: the first keeps its name, the second is named after its module, said once', () => {
    expect(OrdersV1.name).toBe(OrdersV2.name);
    const registry = app.app.get(ResilienceRegistry);
    expect(registry.circuitBreakers.names()).toEqual(
      expect.arrayContaining(['OrdersController.flaky', 'OrdersV2Module/OrdersController.flaky']),
    );
    expect(registry.rateLimits.names()).toEqual(
      expect.arrayContaining(['OrdersController.limited', 'OrdersV2Module/OrdersController.limited']),
    );
    expect(registry.targets.names()).toEqual(
      expect.arrayContaining(['PaymentsService.charge', 'OrdersV2Module/PaymentsService.charge']),
    );
    const clashes = warnings.filter((warning) => warning.startsWith('Two classes are named'));
    expect(clashes).toHaveLength(2);
    expect(clashes[0]).toMatch(
      /^Two classes are named OrdersController \(in OrdersV1Module\) and \(in OrdersV2Module\)/,
    );
    expect(clashes[0]).toContain('named OrdersV2Module/OrdersController.<method>');
    expect(clashes[1]).toMatch(/^Two classes are named PaymentsService .* named OrdersV2Module\/PaymentsService\./);
  });

  it('have their own rate-limit buckets: a limit of 1 admits one request on each', async () => {
    expect((await app.post('/v1/orders/limited', {})).status).toBe(201);
    expect((await app.post('/v1/orders/limited', {})).status).toBe(429);
    expect((await app.post('/v2/orders/limited', {})).status).toBe(201);
    expect((await app.post('/v2/orders/limited', {})).status).toBe(429);
  });

  it('keep their own idempotency records: the same key on both routes runs both, each replays its own', async () => {
    const key = { 'Idempotency-Key': 'order-42' };
    const first = await app.post('/v1/orders/charge', { amount: 5 }, key);
    const second = await app.post('/v2/orders/charge', { amount: 5 }, key);
    expect(first).toMatchObject({ status: 201, body: { version: 'v1', run: 1 } });
    expect(second).toMatchObject({ status: 201, body: { version: 'v2', run: 1 } });
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    const replayed = await app.post('/v2/orders/charge', { amount: 5 }, key);
    expect(replayed).toMatchObject({ status: 201, body: { version: 'v2', run: 1 } });
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(runs).toMatchObject({ v1: 1, v2: 1 });
  });

  it('have their own breakers: opening v1 leaves v2 closed', async () => {
    failing.v1 = true;
    expect((await app.post('/v1/orders/flaky', {})).status).toBe(502);
    expect((await app.post('/v1/orders/flaky', {})).status).toBe(502);
    expect((await app.post('/v1/orders/flaky', {})).status).toBe(503); // open: fails fast
    const registry = app.app.get(ResilienceRegistry);
    expect(registry.circuitBreakers.get('OrdersController.flaky').state).toBe('open');
    expect(registry.circuitBreakers.get('OrdersV2Module/OrdersController.flaky').state).toBe('closed');
    expect(await app.post('/v2/orders/flaky', {})).toMatchObject({ status: 201, body: { version: 'v2' } });
  });

  it('provider methods: the same idempotency key on both services runs each once', async () => {
    const v1Service = app.app.get<Type, { charge(orderId: string): Promise<string> }>(PaymentsV1);
    const v2Service = app.app.get<Type, { charge(orderId: string): Promise<string> }>(PaymentsV2);
    expect(await v1Service.charge('A')).toBe('V1 charged A');
    expect(await v2Service.charge('A')).toBe('V2 charged A');
    expect(await v2Service.charge('A')).toBe('V2 charged A');
    expect(runs).toMatchObject({ paymentsV1: 1, paymentsV2: 1 });
  });
});

describe('naming is deterministic', () => {
  it('two apps of the same modules (two replicas) give the same names', async () => {
    const namesOf = async () => {
      const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
      const nest = await moduleRef.createNestApplication({ logger: false }).init();
      try {
        return nest.get(ResilienceRegistry).circuitBreakers.names().sort();
      } finally {
        await nest.close();
      }
    };
    const first = await namesOf();
    expect(first).toEqual(['OrdersController.flaky', 'OrdersV2Module/OrdersController.flaky']);
    expect(await namesOf()).toEqual(first);
  });
});
