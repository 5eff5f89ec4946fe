import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppModule } from '../../sample/app.module.js';
import { PaymentGateway } from '../../sample/payments/payment-gateway.js';
import { createTestApp, type TestApp } from './http-harness.js';

describe('the sample app', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await createTestApp('express', AppModule);
  });
  afterAll(() => testApp.close());

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
    const answer = await testApp.send('POST', '/payments', { amount: 1 });
    expect(answer.status).toBe(504);
    expect(answer.body).toMatchObject({ code: 'TIMEOUT', policy: 'gateway' });
    expect(testApp.app.get(PaymentGateway).aborted).toBeGreaterThanOrEqual(3);
  });

  it('answers a cached rate when the gateway is down', async () => {
    await testApp.send('PUT', '/gateway', { latencyMs: 5, failureRate: 1 });
    const answer = await testApp.send('GET', '/rates/EUR');
    expect(answer.body).toEqual({ currency: 'EUR', rate: 0.9, cached: true });
  });
});
