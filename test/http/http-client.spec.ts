import { afterEach, describe, expect, it } from 'vitest';
import { ResilienceConfigError } from 'nest-resilience';
import { HttpClientError, HttpResponse } from 'nest-resilience/http';
import { answer, startUpstream, type Upstream } from './upstream.js';
import { clientOf, FAST } from './support.js';

let upstream: Upstream | undefined;
afterEach(async () => {
  await upstream?.close();
  upstream = undefined;
});

describe('ResilientHttpClient: the verbs', () => {
  it('GET resolves status, headers, json() and text(), with baseUrl, query and headers merged', async () => {
    upstream = await startUpstream((request, res) => answer(res, 200, { seen: request.url }, { 'x-answer': 'yes' }));
    const { client } = clientOf({
      name: 'api',
      baseUrl: `${upstream.origin}/v1/`,
      headers: { 'x-client': 'a', 'x-over': 'client' },
    });

    const response = await client.get('/orders', {
      query: { page: 2, tag: ['a', 'b'], skip: undefined },
      headers: { 'x-over': 'call' },
    });

    expect(response).toBeInstanceOf(HttpResponse);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-answer')).toBe('yes');
    expect(await response.json()).toEqual({ seen: '/v1/orders?page=2&tag=a&tag=b' });
    expect(await response.text()).toBe(JSON.stringify({ seen: '/v1/orders?page=2&tag=a&tag=b' }));
    const bytes = await response.bytes();
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(bytes)).toBe(await response.text());
    expect(upstream.received[0].headers['x-client']).toBe('a');
    expect(upstream.received[0].headers['x-over']).toBe('call');
  });

  it('POST sends json with its content type and an Idempotency-Key; PUT, PATCH, DELETE send their method', async () => {
    upstream = await startUpstream((request, res) => answer(res, 201, { method: request.method }));
    const { client } = clientOf({ name: 'api', baseUrl: upstream.origin });

    const created = await client.post('/charges', { json: { amount: 5 } });
    await client.put('/charges/1', { json: {} });
    await client.patch('/charges/1', { body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await client.delete('/charges/1');

    expect(created.status).toBe(201);
    const [post, put, patch, del] = upstream.received;
    expect(post.body).toBe('{"amount":5}');
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect([put.method, patch.method, del.method]).toEqual(['PUT', 'PATCH', 'DELETE']);
    // Keys go on POST by default, not on PATCH.
    expect(patch.headers['idempotency-key']).toBeUndefined();
    expect(patch.body).toBe('x=1');
  });

  it('a 404 rejects with an HttpClientError: code, status, a bounded body excerpt, attempts, who gave up', async () => {
    upstream = await startUpstream((_request, res) => answer(res, 404, { error: 'no such order '.repeat(100) }));
    const { client } = clientOf({ name: 'api', baseUrl: upstream.origin, maxBodyExcerpt: 20, ...FAST });

    const error = (await client.get('/orders/9').catch((failure: unknown) => failure)) as HttpClientError;

    expect(error).toBeInstanceOf(HttpClientError);
    expect(error).toMatchObject({ code: 'HTTP_STATUS', status: 404, attempts: 1, gaveUp: 'not-retried' });
    expect(error.bodyExcerpt).toBe('{"error":"no such or');
    expect(error.message).toBe(`HTTP client "api": GET ${upstream.origin}/orders/9 answered 404`);
    expect(upstream.received).toHaveLength(1); // a 4xx is not retried
  });

  it('a network error rejects with code NETWORK_ERROR after the retries', async () => {
    upstream = await startUpstream((_request, res) => answer(res, 200));
    const origin = upstream.origin;
    await upstream.close();
    upstream = undefined;
    const { client } = clientOf({ name: 'api', baseUrl: origin, ...FAST });

    const error = (await client.get('/x').catch((failure: unknown) => failure)) as HttpClientError;

    expect(error).toMatchObject({ code: 'NETWORK_ERROR', status: undefined, attempts: 4, gaveUp: 'retry' });
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('a relative URL without baseUrl is refused, naming the client and the URL', async () => {
    const { client } = clientOf({ name: 'partners' });
    const error = await client.get('/orders').catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ResilienceConfigError);
    expect((error as Error).message).toContain('HTTP client "partners": the URL "/orders" is relative');
  });
});

describe('ResilientHttpClient: options are checked when the client is made', () => {
  it.each([
    [{ name: 'a', retry: { maxAttempts: 0 } }, 'Invalid retry option "maxAttempts" = 0 for policy "a"'],
    [{ name: 'a', attemptTimeout: 'soon' }, 'Invalid http client option "attemptTimeout" = "soon"'],
    [{ name: 'a', baseUrl: 'api.example.com' }, 'option "baseUrl" = "api.example.com"'],
    [{ name: 'a', circuitBreaker: 3 }, 'must be an options object or false, got the number 3'],
    [{ name: 'a', retyr: {} }, 'Unknown http client option "retyr"'],
    [{ name: '' }, 'option "name" = ""'],
    [{ name: 'a', idempotencyKey: { methods: ['GET'] } }, "may hold 'POST' and 'PATCH' only"],
  ])('%j', (options, message) => {
    expect(() => clientOf(options as never)).toThrow(ResilienceConfigError);
    expect(() => clientOf(options as never)).toThrow(message);
  });
});

describe('client.fetch: a WHATWG fetch with the pipeline', () => {
  it('resolves a 404 Response as fetch does, reads a Request, resolves relative URLs against baseUrl', async () => {
    upstream = await startUpstream((request, res) =>
      request.url === '/missing' ? answer(res, 404, { missing: true }) : answer(res, 200, { body: request.body }),
    );
    const { client } = clientOf({ name: 'sdk', baseUrl: upstream.origin });
    const { fetch } = client; // SDKs call it detached

    const missing = await fetch('/missing');
    const posted = await fetch(new Request(`${upstream.origin}/echo`, { method: 'POST', body: 'hello' }));

    expect(missing).toBeInstanceOf(Response);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ missing: true });
    expect(await posted.json()).toEqual({ body: 'hello' });
    expect(upstream.received[1].headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
