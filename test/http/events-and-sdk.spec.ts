import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResilienceEvent } from 'nest-resilience';
import type { HttpAttemptEvent, HttpClientError } from 'nest-resilience/http';
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
    expect(all.map((event) => event.type)).toEqual(['retry', 'retry-give-up']);
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
