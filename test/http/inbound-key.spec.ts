import { Controller, Module, Post } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { getIdempotencyKey, Idempotent, ResilienceModule } from 'nest-resilience';
import { InjectHttpClient, ResilientHttpClient, ResilientHttpModule } from 'nest-resilience/http';
import { deriveIdempotencyKey } from '../../lib/core/idempotency/request-key.js';
import { createTestApp, PLATFORMS, type TestApp } from '../e2e/http-harness.js';
import { answer, startUpstream, type Upstream } from './upstream.js';

let upstream: Upstream | undefined;
let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  await upstream?.close();
  app = upstream = undefined;
});

@Controller('orders')
class OrdersController {
  constructor(@InjectHttpClient('payments') private readonly payments: ResilientHttpClient) {}

  @Post()
  @Idempotent()
  async create(): Promise<{ own: string | undefined; charged: number }> {
    const own = getIdempotencyKey();
    const charge = await this.payments.post('/charges', { json: { amount: 5 } });
    return { own, charged: charge.status };
  }
}

describe.each(PLATFORMS)('%s: an inbound keyed request calls out with a derived key', (platform) => {
  it("the client's retry of the inbound request reaches the gateway with the same key", async () => {
    upstream = await startUpstream((_request, res, n) => answer(res, n === 1 ? 503 : 201));
    @Module({
      imports: [
        ResilienceModule.forRoot(),
        // No retry of its own here: the inbound client's retry is what must reuse the key.
        ResilientHttpModule.register({ name: 'payments', baseUrl: upstream.origin, retry: false }),
      ],
      controllers: [OrdersController],
    })
    class AppModule {}
    app = await createTestApp(platform, AppModule);

    const failed = await app.sendWith('POST', '/orders', { 'idempotency-key': 'order-42' });
    const retried = await app.sendWith('POST', '/orders', { 'idempotency-key': 'order-42' });
    const other = await app.sendWith('POST', '/orders', { 'idempotency-key': 'order-43' });

    expect([failed.status, retried.status, other.status]).toEqual([500, 201, 201]);
    const keys = upstream.received.map((request) => request.headers['idempotency-key']);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
    // The same derivation as getIdempotencyKey() in decorated methods: from the request's key, the URL, the count.
    const { own } = retried.body as { own: string };
    expect(keys[0]).toBe(deriveIdempotencyKey(own, `http payments POST ${upstream.origin}/charges`, 1));
  });
});
