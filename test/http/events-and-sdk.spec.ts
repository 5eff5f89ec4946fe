import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResilienceEvent } from 'nest-resilience';
import type { HttpAttemptEvent, HttpClientError, HttpGiveUpEvent } from 'nest-resilience/http';
import { answer, startUpstream, type Upstream } from './upstream.js';
import { clientOf, FAST } from './support.js';

let upstream: Upstream | undefined;
afterEach(async () => {
  await upstream?.close();
  upstream = undefined;
});

describe('events', () => {
  it('every attempt, retry and give-up names client, origin, method and status, and no secret', async () => {
    upstream = await startUpstream((_request, res) =>
      answer(
        res,
        503,
        { token: 'body-secret' },
        { 'set-cookie': 'sid=answer-cookie-secret', 'x-api-token': 'tok-secret' },
      ),
    );
    const { client, events } = clientOf({
      name: 'payments',
      baseUrl: upstream.origin,
      headers: { authorization: 'Bearer header-secret' },
      ...FAST,
      retry: { ...FAST.retry, maxAttempts: 2 },
    });
    const attempts: HttpAttemptEvent[] = [];
    const all: ResilienceEvent[] = [];
    events.on('http-attempt', (event) => attempts.push(event));
    events.subscribe((event) => all.push(event));

    const error = await client
      .post('/charges', {
        json: { card: 'body-secret' },
        headers: { cookie: 'session=cookie-secret' },
        query: { api_key: 'query-secret' },
        idempotencyKey: 'key-secret',
      })
      .catch((failure: unknown) => failure);

    expect(
      attempts.map(({ client: name, origin, method, path, attempt, status, outcome, errorCode }) => ({
        name,
        origin,
        method,
        path,
        attempt,
        status,
        outcome,
        errorCode,
      })),
    ).toEqual(
      [1, 2].map((attempt) => ({
        name: 'payments',
        origin: upstream!.origin,
        method: 'POST',
        path: '/charges',
        attempt,
        status: 503,
        outcome: 'failure',
        errorCode: 'HTTP_STATUS',
      })),
    );
    expect(all.map((event) => event.type)).toEqual(['retry', 'retry-give-up', 'http-give-up']);
    expect(all[2]).toMatchObject({
      client: 'payments',
      origin: upstream.origin,
      method: 'POST',
      path: '/charges',
      status: 503,
      attempts: 2,
      code: 'HTTP_STATUS',
      gaveUp: 'retry',
    });
    const retry = all[0] as Extract<ResilienceEvent, { type: 'retry' }>;
    expect(retry.policy).toBe(`payments ${upstream.origin}`);
    expect(retry.error).toMatchObject({ method: 'POST', status: 503, origin: upstream.origin });
    // Nothing a log line would print carries a secret header value, the query or a body: not the message, not the
    // events or the error as console.log (util.inspect) or a JSON logger (JSON.stringify) prints them.
    const printed = [
      String(error),
      inspect(error, { depth: 10 }),
      JSON.stringify(error),
      inspect([attempts, all], { depth: 10 }),
      JSON.stringify([attempts, all]),
    ].join('\n');
    expect(printed).toContain('503');
    expect(printed).toContain("'set-cookie': '[redacted]'");
    expect(printed).toContain('[23 characters, not logged]');
    expect(printed).not.toMatch(/secret|card/);
    // The values are still there for code that reads them on purpose.
    const failure = error as HttpClientError;
    expect(failure.headers?.get('x-api-token')).toBe('tok-secret');
    expect(failure.bodyExcerpt).toBe('{"token":"body-secret"}');
  });

  it('a hedged attempt is an http-attempt marked hedged; every failed call is one http-give-up', async () => {
    upstream = await startUpstream((request, res, n) => {
      if (request.url === '/missing') return answer(res, 404);
      if (n === 2) answer(res, 200); // the first /quote never answers: the hedge wins
    });
    const { client, events } = clientOf({
      name: 'quotes',
      baseUrl: upstream.origin,
      hedge: { delay: 20 },
      circuitBreaker: { window: 'count', windowSize: 2, minimumCalls: 2, failureRateThreshold: 100 },
      retry: false,
    });
    const attempts: HttpAttemptEvent[] = [];
    const giveUps: HttpGiveUpEvent[] = [];
    events.on('http-attempt', (event) => attempts.push(event));
    events.on('http-give-up', (event) => giveUps.push(event));

    await client.get('/quote');
    await expect.poll(() => attempts.length).toBe(2);
    expect(attempts.map(({ hedged, outcome, status, errorCode }) => ({ hedged, outcome, status, errorCode }))).toEqual([
      { hedged: true, outcome: 'success', status: 200, errorCode: undefined },
      { hedged: false, outcome: 'failure', status: undefined, errorCode: 'ABORTED' },
    ]);
    expect(giveUps).toEqual([]);

    await client.get('/missing').catch(() => undefined);
    expect(giveUps.at(-1)).toMatchObject({
      client: 'quotes',
      origin: upstream.origin,
      method: 'GET',
      path: '/missing',
      status: 404,
      code: 'HTTP_STATUS',
      gaveUp: 'not-retried',
    });
    // 404s do not open the breaker; a caller's own abort is not a give-up of the client.
    const controller = new AbortController();
    controller.abort();
    await client.get('/quote', { signal: controller.signal }).catch(() => undefined);
    expect(giveUps).toHaveLength(1);
  });

  it('an open breaker and a timeout are give-ups too, naming the policy that ended the call', async () => {
    upstream = await startUpstream((_request, res) => answer(res, 503));
    const { client, events } = clientOf({
      name: 'api',
      baseUrl: upstream.origin,
      retry: false,
      circuitBreaker: { window: 'count', windowSize: 2, minimumCalls: 2, failureRateThreshold: 100 },
    });
    const giveUps: HttpGiveUpEvent[] = [];
    events.on('http-give-up', (event) => giveUps.push(event));

    for (let i = 0; i < 3; i++) await client.delete('/orders/1').catch(() => undefined);

    expect(
      giveUps.map(({ method, status, code, gaveUp, attempts }) => ({ method, status, code, gaveUp, attempts })),
    ).toEqual([
      { method: 'DELETE', status: 503, code: 'HTTP_STATUS', gaveUp: 'not-retried', attempts: 1 },
      { method: 'DELETE', status: 503, code: 'HTTP_STATUS', gaveUp: 'not-retried', attempts: 1 },
      { method: 'DELETE', status: undefined, code: 'BROKEN_CIRCUIT', gaveUp: 'circuit-breaker', attempts: 0 },
    ]);
  });

  it('http-attempt events reach only the listeners that name them', async () => {
    upstream = await startUpstream((_request, res) => answer(res, 200));
    const { client, events } = clientOf({ name: 'api', baseUrl: upstream.origin });
    const everything: ResilienceEvent[] = [];
    events.subscribe((event) => everything.push(event));
    await client.get('/');
    expect(everything).toEqual([]);
    expect(events.listening('http-attempt')).toBe(false);
  });
});

/**
 * A tiny SDK in the style of openapi-fetch: it builds a `Request`, calls the `fetch` it was given, and turns the
 * `Response` into `{ data, error, response }` itself. Nothing in it knows about the pipeline.
 */
function createSdk(options: { baseUrl: string; fetch: (request: Request) => Promise<Response> }) {
  return {
    async GET<T>(path: string): Promise<{ data?: T; error?: unknown; response: Response }> {
      const response = await options.fetch(
        new Request(`${options.baseUrl}${path}`, { headers: { accept: 'application/json' } }),
      );
      const body: unknown = await response.json();
      return response.ok ? { data: body as T, response } : { error: body, response };
    },
    async POST<T>(path: string, json: unknown): Promise<{ data?: T; error?: unknown; response: Response }> {
      const request = new Request(`${options.baseUrl}${path}`, {
        method: 'POST',
        body: JSON.stringify(json),
        headers: { 'content-type': 'application/json' },
      });
      const response = await options.fetch(request);
      const body: unknown = await response.json();
      return response.ok ? { data: body as T, response } : { error: body, response };
    },
  };
}

describe('an SDK driven through client.fetch', () => {
  it('gets the pipeline unchanged: retries, keys on POST, errors as the SDK expects them', async () => {
    upstream = await startUpstream((request, res, n) => {
      if (n === 1) return answer(res, 503, { busy: true }, { 'retry-after': '1' });
      if (request.url === '/pets/0') return answer(res, 404, { message: 'no such pet' });
      answer(res, request.method === 'POST' ? 201 : 200, { id: 7, body: request.body });
    });
    const { client } = clientOf({ name: 'petstore', ...FAST });
    const sdk = createSdk({ baseUrl: upstream.origin, fetch: client.fetch });

    const pet = await sdk.GET<{ id: number }>('/pets/7');
    const missing = await sdk.GET('/pets/0');
    const created = await sdk.POST<{ body: string }>('/pets', { name: 'Rex' });

    expect(pet.data).toMatchObject({ id: 7 });
    expect(upstream.received).toHaveLength(4); // the 503 was retried under the SDK's feet
    expect(missing).toMatchObject({ error: { message: 'no such pet' } });
    expect(missing.response.status).toBe(404);
    expect(created.data).toMatchObject({ body: '{"name":"Rex"}' });
    expect(upstream.received[3].headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
