import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { ExpressAdapter } from '@nestjs/platform-express';
import { firstValueFrom } from 'rxjs';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ResilienceRegistry } from '../../lib/index.js';
import { AppModule } from '../../sample/app.module.js';
import { PaymentGateway } from '../../sample/shared/payment-gateway.js';
import { freePort } from '../transports/free-port.js';
import { createTestApp, type TestApp } from './http-harness.js';

describe('the sample app', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await createTestApp('express', AppModule);
  });
  afterAll(() => testApp.close());
  // Each case starts from a closed breaker, whatever the previous one did to the gateway.
  beforeEach(() => testApp.app.get(ResilienceRegistry).circuitBreakers.reset('gateway'));

  it('charges through the gateway when it is healthy', async () => {
    await testApp.send('PUT', '/gateway', { latencyMs: 5, failureRate: 0 });
    const answer = await testApp.send('POST', '/payments', { amount: 42 });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ amount: 42 });
  });

  it('answers 503 once every retry of a dead gateway has failed', async () => {
    await testApp.send('PUT', '/gateway', { latencyMs: 5, failureRate: 1 });
    const before = testApp.app.get(PaymentGateway).calls;
    const answer = await testApp.send('POST', '/payments', { amount: 1 });
    expect(answer.status).toBe(503);
    expect(testApp.app.get(PaymentGateway).calls - before).toBe(3);
  });

  it('aborts gateway calls that exceed the timeout and answers 504', async () => {
    await testApp.send('PUT', '/gateway', { latencyMs: 2000, failureRate: 0 });
    const before = testApp.app.get(PaymentGateway).aborted;
    const answer = await testApp.send('POST', '/payments', { amount: 1 });
    expect(answer.status).toBe(504);
    expect(answer.body).toMatchObject({ code: 'TIMEOUT', policy: 'gateway' });
    // Three attempts (retries.gateway), each aborted: two by the 800 ms deadline, the last by the 3 s total.
    expect(testApp.app.get(PaymentGateway).aborted - before).toBe(3);
  });

  it('opens the gateway breaker after repeated failures and reports it on /health', async () => {
    await testApp.send('PUT', '/gateway', { latencyMs: 1, failureRate: 1 });
    let answer = await testApp.send('POST', '/payments', { amount: 1 });
    for (let i = 0; i < 5 && answer.body && (answer.body as { code?: string }).code !== 'BROKEN_CIRCUIT'; i++) {
      answer = await testApp.send('POST', '/payments', { amount: 1 });
    }
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ code: 'BROKEN_CIRCUIT', policy: 'gateway' });
    expect(answer.headers['retry-after']).toBe('10'); // the breaker's openDuration: 10 s
    const health = await testApp.send('GET', '/health');
    expect(health.body).toMatchObject({
      status: 'degraded',
      details: { circuitBreakers: { breakers: { gateway: { state: 'open' } } } },
    });
    expect((await testApp.send('POST', '/breakers/gateway/reset')).status).toBe(204);
    expect((await testApp.send('GET', '/health')).body).toMatchObject({ status: 'ok' });
  });

  it('serves /metrics for Prometheus and the live dashboard at /resilience', async () => {
    await testApp.send('PUT', '/gateway', { latencyMs: 1, failureRate: 0 });
    expect((await testApp.send('POST', '/payments', { amount: 5 })).status).toBe(201);
    const server = testApp.app.getHttpServer() as Parameters<typeof request>[0];
    const metrics = await request(server).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/^nest_resilience_circuit_breaker_state\{name="gateway",state="closed"\} 1$/m);
    expect(metrics.text).toMatch(
      /^nest_resilience_call_duration_seconds_count\{target="PaymentsService.charge",outcome="success"\} \d+$/m,
    );
    const dashboard = await request(server).get('/resilience');
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers['content-type']).toContain('text/html');
    expect(dashboard.text).toContain('<h2>Circuit breakers</h2>');
  });

  it('answers a cached rate when the gateway is down', async () => {
    await testApp.send('PUT', '/gateway', { latencyMs: 5, failureRate: 1 });
    const answer = await testApp.send('GET', '/rates/EUR');
    expect(answer.body).toEqual({ currency: 'EUR', rate: 0.9, cached: true });
    expect(answer.headers['ratelimit-limit']).toBe('20');
  });

  it('limits /rates to 20 requests a minute per client', async () => {
    await testApp.send('PUT', '/gateway', { latencyMs: 1, failureRate: 0 });
    // 22 at once: sent one after the other on a loaded machine, a token (one per 3 s) could refill in between.
    const answers = await Promise.all(Array.from({ length: 22 }, () => testApp.send('GET', '/rates/USD')));
    const statuses = answers.map((answer) => answer.status);
    // Earlier tests of this file spent some of the 20 tokens already; the limit holds whatever they spent.
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(20);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(2);
    expect(answers.every((answer) => answer.headers['ratelimit-limit'] === '20')).toBe(true);
  });
});

describe('the sample app as a hybrid HTTP + TCP microservice', () => {
  it('charges over TCP and refuses the sixth message in a second with RATE_LIMIT_EXCEEDED', async () => {
    const port = await freePort();
    const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false });
    app.connectMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    Object.assign(app.get(PaymentGateway).behaviour, { latencyMs: 1, failureRate: 0 });
    const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await client.connect();
    // All six at once: sent one after the other, six round trips would have to fit in the 200 ms that refill a
    // token, which a loaded machine does not promise.
    const answers = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((amount) =>
        firstValueFrom(client.send<unknown>('orders.pay', { amount })).catch((error: unknown) => error),
      ),
    );
    const refused = answers.filter((answer) => (answer as { code?: string }).code === 'RATE_LIMIT_EXCEEDED');
    expect(refused).toEqual([
      expect.objectContaining({ status: 'error', code: 'RATE_LIMIT_EXCEEDED', policy: 'OrdersController.pay' }),
    ]);
    const paid = answers.filter((answer) => !refused.includes(answer)) as { amount: number }[];
    expect(paid).toHaveLength(5);
    expect(paid.every((answer) => [1, 2, 3, 4, 5, 6].includes(answer.amount))).toBe(true);
    await client.close();
    await app.close();
  });
});
