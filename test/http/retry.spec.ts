import { afterEach, describe, expect, it } from 'vitest';
import type { ResilienceEventOf } from 'nest-resilience';
import { DEFAULT_HTTP_CLIENT_OPTIONS, type HttpClientError } from 'nest-resilience/http';
import { answer, startUpstream, type Upstream } from './upstream.js';
import { clientOf, FAST } from './support.js';

let upstream: Upstream | undefined;
afterEach(async () => {
  await upstream?.close();
  upstream = undefined;
});

/** The retry events of a client, as its listeners see them. */
function retriesOf(events: ReturnType<typeof clientOf>['events']): ResilienceEventOf<'retry'>[] {
  const seen: ResilienceEventOf<'retry'>[] = [];
  events.on('retry', (event) => seen.push(event));
  return seen;
}

describe('the standard pipeline: defaults', () => {
  it('are .NET standard handler-like: 30 s total, 10 s per attempt, 3 retries, a breaker, a bulkhead', () => {
    const { client } = clientOf({ name: 'api' });
    expect(client.options).toMatchObject({
      totalTimeout: 30_000,
      attemptTimeout: 10_000,
      retry: { maxAttempts: 4, backoff: 'exponential', initialDelay: 2000, jitter: 'equal', maxDelay: 30_000 },
      circuitBreaker: {
        window: 'time',
        windowSize: 30,
        minimumCalls: 100,
        failureRateThreshold: 10,
        openDuration: 5000,
      },
      bulkhead: { maxConcurrent: 1000, maxQueue: 0 },
      hedge: undefined,
      rateLimit: undefined,
      idempotencyKey: { header: 'Idempotency-Key', methods: ['POST'] },
    });
    expect(DEFAULT_HTTP_CLIENT_OPTIONS.retry.maxAttempts).toBe(4);
  });

  it('each stage can be left out with false', () => {
    const { client } = clientOf({
      name: 'api',
      totalTimeout: false,
      attemptTimeout: false,
      retry: false,
      circuitBreaker: false,
      bulkhead: false,
      idempotencyKey: false,
    });
    expect(client.options).toMatchObject({
      totalTimeout: undefined,
      attemptTimeout: undefined,
      retry: undefined,
      circuitBreaker: undefined,
      bulkhead: undefined,
      idempotencyKey: undefined,
    });
  });
});

describe('retries of gateway failures', () => {
  it('503 then 200 with Retry-After: 1: retried after the Retry-After, capped by retry.maxDelay', async () => {
    upstream = await startUpstream((_request, res, n) =>
      n === 1 ? answer(res, 503, { busy: true }, { 'retry-after': '1' }) : answer(res, 200, { ok: true }),
    );
    const { client, events } = clientOf({ name: 'api', baseUrl: upstream.origin, ...FAST });
    const retries = retriesOf(events);

    const response = await client.get('/status');

    expect(await response.json()).toEqual({ ok: true });
    expect(upstream.received).toHaveLength(2);
    // The backoff alone would wait at most 1 ms (initialDelay 1): the 1 s asked for, capped at maxDelay 50.
    expect(retries.map((retry) => retry.delay)).toEqual([50]);
    expect(retries[0].error).toMatchObject({ code: 'HTTP_STATUS', status: 503, method: 'GET' });
    expect(retries[0].policy).toBe(`api ${upstream.origin}`);
  });

  it('429 with an HTTP date: the wait until that date, capped; a date in the past does not wait', async () => {
    const inThreeSeconds = new Date(Date.now() + 3000).toUTCString();
    const past = new Date(Date.now() - 60_000).toUTCString();
    upstream = await startUpstream((_request, res, n) => {
      if (n === 1) return answer(res, 429, {}, { 'retry-after': inThreeSeconds });
      if (n === 2) return answer(res, 429, {}, { 'retry-after': past });
      answer(res, 200, { ok: true });
    });
    const { client, events } = clientOf({
      name: 'api',
      baseUrl: upstream.origin,
      retry: { initialDelay: 1, maxDelay: 80 },
    });
    const retries = retriesOf(events);

    await client.get('/quota');

    expect(upstream.received).toHaveLength(3);
    expect(retries[0].delay).toBe(80);
    expect(retries[1].delay).toBeLessThanOrEqual(2); // backoff only
  });

  it('429 with an HTTP date under maxDelay: the wait is until that date, not the backoff', async () => {
    // A whole second ahead at least: an HTTP date has no milliseconds.
    const until = new Date(Math.ceil((Date.now() + 5000) / 1000) * 1000);
    upstream = await startUpstream((_request, res) => answer(res, 429, {}, { 'retry-after': until.toUTCString() }));
    const { client, events } = clientOf({
      name: 'api',
      baseUrl: upstream.origin,
      retry: { initialDelay: 1, maxDelay: 60_000 },
    });
    const retries = retriesOf(events);
    let retriedAt = 0;
    events.on('retry', () => (retriedAt = Date.now()));
    const controller = new AbortController();

    const call = client.get('/quota', { signal: controller.signal }).catch((error: unknown) => error);
    await expect.poll(() => retries.length).toBe(1);
    const asked = until.getTime() - retriedAt;
    controller.abort(); // the wait itself is the policy's: the test need not sit through it

    // The backoff alone would have waited about 1 ms.
    expect(retries[0].delay).toBeGreaterThan(3000);
    expect(Math.abs(retries[0].delay - asked)).toBeLessThan(1000);
    expect(((await call) as Error).name).toBe('AbortError');
    expect(upstream.received).toHaveLength(1);
  });

  it('only 408, 429, 500, 502, 503, 504 are retried: a 501 or a 400 is not', async () => {
    for (const [status, attempts] of [
      [408, 4],
      [500, 4],
      [502, 4],
      [504, 4],
      [501, 1],
      [400, 1],
      [409, 1],
    ] as const) {
      upstream = await startUpstream((_request, res) => answer(res, status));
      const { client } = clientOf({ name: 'api', baseUrl: upstream.origin, ...FAST });
      const error = (await client.get('/').catch((failure: unknown) => failure)) as HttpClientError;
      expect({ status: error.status, attempts: upstream.received.length }).toEqual({ status, attempts });
      expect(error.attempts).toBe(attempts);
      expect(error.gaveUp).toBe(attempts > 1 ? 'retry' : 'not-retried');
      await upstream.close();
      upstream = undefined;
    }
  });
});

describe('which requests may be repeated', () => {
  it('a POST whose answer is lost is retried with the same key; a key-honouring upstream charges once', async () => {
    const charges = new Map<string, string>();
    upstream = await startUpstream((request, res) => {
      const key = String(request.headers['idempotency-key']);
      let id = charges.get(key);
      if (id === undefined) {
        id = `ch_${charges.size + 1}`;
        charges.set(key, id);
        res.destroy(); // charged, but the answer never reaches the client
        return;
      }
      answer(res, 201, { id });
    });
    const { client } = clientOf({ name: 'payments', baseUrl: upstream.origin, ...FAST });

    const response = await client.post('/charges', { json: { amount: 100 } });

    expect(await response.json()).toEqual({ id: 'ch_1' });
    expect(charges.size).toBe(1);
    const keys = upstream.received.map((request) => request.headers['idempotency-key']);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
  });

  it('a POST without a key is sent once, whatever fails', async () => {
    upstream = await startUpstream((_request, res) => answer(res, 503));
    const { client } = clientOf({ name: 'api', baseUrl: upstream.origin, ...FAST });

    const error = (await client
      .post('/charges', { idempotencyKey: false })
      .catch((e: unknown) => e)) as HttpClientError;

    expect(upstream.received).toHaveLength(1);
    expect(upstream.received[0].headers['idempotency-key']).toBeUndefined();
    expect(error).toMatchObject({ code: 'HTTP_STATUS', status: 503, attempts: 1, gaveUp: 'not-retried' });
  });

  it('a PATCH is retried only with a key: its own, on every attempt', async () => {
    upstream = await startUpstream((_request, res, n) => (n < 3 ? answer(res, 503) : answer(res, 200)));
    const { client } = clientOf({ name: 'api', baseUrl: upstream.origin, ...FAST });

    await expect(client.patch('/a')).rejects.toMatchObject({ status: 503, attempts: 1 });
    await client.patch('/a', { idempotencyKey: 'order-7-update' });

    expect(upstream.received.map((request) => request.headers['idempotency-key'])).toEqual([
      undefined,
      'order-7-update',
      'order-7-update',
    ]);
  });

  it('the key header name is configurable, and PATCH can get keys by default', async () => {
    upstream = await startUpstream((_request, res) => answer(res, 200));
    const { client } = clientOf({
      name: 'api',
      baseUrl: upstream.origin,
      idempotencyKey: { header: 'X-Request-Key', methods: ['POST', 'PATCH'] },
    });

    await client.patch('/a');

    expect(upstream.received[0].headers['x-request-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(upstream.received[0].headers['idempotency-key']).toBeUndefined();
  });
});
