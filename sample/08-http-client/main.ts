/**
 * 08-http-client: outbound calls through `nest-resilience/http`, against a flaky in-process payment gateway.
 *   npm run build && node dist/sample/08-http-client/main.js
 * Charges ten orders. The gateway drops some answers after charging and asks for retries with 503 + Retry-After; the
 * client retries each POST with one Idempotency-Key, so the gateway charges each order exactly once.
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ResilienceEvents, ResilienceModule } from 'nest-resilience';
import { HttpClientError, InjectHttpClient, ResilientHttpClient, ResilientHttpModule } from 'nest-resilience/http';
import { startFlakyGateway } from './flaky-gateway.js';

const gateway = await startFlakyGateway();

@Injectable()
class Checkout {
  constructor(@InjectHttpClient('gateway') private readonly http: ResilientHttpClient) {}

  async pay(order: number): Promise<string> {
    const response = await this.http.post('/charges', { json: { order, amount: order * 10 } });
    return (await response.json<{ id: string }>()).id;
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot(),
    ResilientHttpModule.register({
      name: 'gateway',
      baseUrl: gateway.url,
      // Short waits for a demo: Retry-After: 1 is capped at maxDelay.
      retry: { initialDelay: 20, maxDelay: 100 },
      attemptTimeout: 2000,
    }),
  ],
  providers: [Checkout],
})
class HttpClientSampleModule {}

const app = await NestFactory.createApplicationContext(HttpClientSampleModule, { logger: ['error'] });
app.get(ResilienceEvents).on('http-attempt', (event) => {
  console.log(`  attempt ${event.attempt} ${event.method} ${event.path}: ${event.status ?? event.errorCode}`);
});
const checkout = app.get(Checkout);
for (let order = 1; order <= 10; order++) {
  try {
    console.log(`order ${order} charged ${await checkout.pay(order)}`);
  } catch (error) {
    console.log(`order ${order} failed`, error instanceof HttpClientError ? error.code : error);
  }
}
console.log(`the gateway charged ${gateway.charges()} times for 10 orders`);
await app.close();
await gateway.close();
