import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ResilienceEventOf } from 'nest-resilience';
import type { HttpClientError } from 'nest-resilience/http';
import { answer, startUpstream, type Upstream } from './upstream.js';
import { clientOf, FAST } from './support.js';

type HedgeEvent = ResilienceEventOf<'hedge'>;
type RetryEvent = ResilienceEventOf<'retry'>;

let upstream: Upstream | undefined;
afterEach(async () => {
  await upstream?.close();
  upstream = undefined;
});

describe('cancellation reaches the socket', () => {
  it("a hedged GET: the first answer wins and the loser's connection is closed", async () => {
    upstream = await startUpstream((_request, res, n) => {
      if (n === 2) answer(res, 200, { from: 'hedge' }); // the first never answers
    });
    const { client, events } = clientOf({ name: 'api', baseUrl: upstream.origin, hedge: { delay: 20 } });
    const hedges: HedgeEvent[] = [];
    events.on('hedge', (event) => hedges.push(event));

    const response = await client.get('/quote');

    expect(await response.json()).toEqual({ from: 'hedge' });
    expect(hedges).toHaveLength(1);
    expect(await upstream.received[0].closed).toBe('aborted');
    expect(await upstream.received[1].closed).toBe('answered');
  });

  it('hedged attempts of a keyed POST send one key', async () => {
    upstream = await startUpstream((_request, res, n) => {
      if (n === 2) answer(res, 201);
    });
    const { client } = clientOf({ name: 'api', baseUrl: upstream.origin, hedge: { delay: 20 } });

    await client.post('/charges', { json: {} });

    const [first, second] = upstream.received;
    expect(second.headers['idempotency-key']).toBe(first.headers['idempotency-key']);
    expect(await first.closed).toBe('aborted');
  });

  it('a POST without a key is never hedged', async () => {
    upstream = await startUpstream((_request, res) => {
      setTimeout(() => answer(res, 201), 100);
    });
    const { client } = clientOf({ name: 'api', baseUrl: upstream.origin, hedge: { delay: 1 } });
    await client.post('/charges', { idempotencyKey: false });
    expect(upstream.received).toHaveLength(1);
  });

  it("the caller's abort during the backoff ends the call at once: no further attempt", async () => {
    upstream = await startUpstream((_request, res) => answer(res, 503));
    const { client, events } = clientOf({
      name: 'api',
      baseUrl: upstream.origin,
      retry: { initialDelay: 60_000, maxDelay: 60_000 },
    });
    const retries: RetryEvent[] = [];
    events.on('retry', (event) => retries.push(event));
    const controller = new AbortController();

    const call = client.get('/slow', { signal: controller.signal }).catch((error: unknown) => error);
    await vi.waitFor(() => expect(retries).toHaveLength(1));
    controller.abort(new Error('user left'));
    const error = (await call) as Error;

    expect(error.name).toBe('AbortError');
    expect(error.cause).toEqual(new Error('user left'));
    expect(upstream.received).toHaveLength(1);
  });

  it("the caller's abort during an attempt closes the upstream's connection", async () => {
    upstream = await startUpstream(() => undefined);
    const { client } = clientOf({ name: 'api', baseUrl: upstream.origin });
    const controller = new AbortController();

    const call = client.get('/hang', { signal: controller.signal }).catch((error: unknown) => error);
    await vi.waitFor(() => expect(upstream!.received).toHaveLength(1));
    controller.abort();

    expect(((await call) as Error).name).toBe('AbortError');
    expect(await upstream.received[0].closed).toBe('aborted');
  });

  it("the total timeout and the call's own timeout abort the request", async () => {
    upstream = await startUpstream(() => undefined);
    const { client } = clientOf({ name: 'api', baseUrl: upstream.origin, totalTimeout: 400, attemptTimeout: false });

    const total = (await client.get('/a').catch((error: unknown) => error)) as HttpClientError;
    const own = (await client.get('/b', { timeout: 150 }).catch((error: unknown) => error)) as HttpClientError;

    expect(total).toMatchObject({ code: 'TIMEOUT', gaveUp: 'total-timeout', attempts: 1 });
    expect(own).toMatchObject({ code: 'TIMEOUT', gaveUp: 'call-timeout' });
    expect(await Promise.all(upstream.received.map((request) => request.closed))).toEqual(['aborted', 'aborted']);
  });

  it('the total timeout during a backoff ends the call at once: no further attempt, events inside it', async () => {
    upstream = await startUpstream((_request, res) => answer(res, 503));
    const { client, events } = clientOf({
      name: 'api',
      baseUrl: upstream.origin,
      totalTimeout: 300,
      retry: { initialDelay: 60_000, maxDelay: 60_000 },
    });
    const seen: string[] = [];
    events.on('timeout', (event) => seen.push(`timeout ${event.scope}`));
    events.on('call-failure', (event) => seen.push(`call-failure ${(event.error as Error).name}`));

    const error = (await client.get('/slow').catch((failure: unknown) => failure)) as HttpClientError;

    expect(error).toMatchObject({ code: 'TIMEOUT', gaveUp: 'total-timeout', attempts: 1 });
    expect(upstream.received).toHaveLength(1);
    // The call's own events still hear how it ended, once its backoff was left.
    await vi.waitFor(() => expect(seen).toEqual(['timeout total', 'call-failure TimeoutError']));
  });

  it('the total timeout fires on time even when the fetch ignores its abort', async () => {
    vi.useFakeTimers();
    try {
      const never = () => new Promise<Response>(() => undefined); // a fetch that neither answers nor hears its signal
      const { client } = clientOf({ name: 'api', baseUrl: 'http://127.0.0.1:9', totalTimeout: 1000, fetch: never });

      const call = client.get('/hang').catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(999);
      let settled = false;
      void call.then(() => (settled = true));
      await Promise.resolve();
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);

      expect(await call).toMatchObject({ code: 'TIMEOUT', gaveUp: 'total-timeout' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('attempt timeouts are retried, each aborted attempt closed upstream', async () => {
    upstream = await startUpstream((_request, res, n) => {
      if (n === 3) answer(res, 200, { ok: true });
    });
    const { client } = clientOf({ name: 'api', baseUrl: upstream.origin, attemptTimeout: 100, ...FAST });

    expect(await (await client.get('/x')).json()).toEqual({ ok: true });
    expect(await upstream.received[0].closed).toBe('aborted');
    expect(await upstream.received[1].closed).toBe('aborted');
  });

  it('client.fetch: the short bodies of retried 503s are read, and their socket goes back to the pool', async () => {
    upstream = await startUpstream((_request, res, n) =>
      n < 4 ? answer(res, 503, { filler: 'x'.repeat(16 * 1024) }) : answer(res, 200, { ok: true }),
    );
    const { client } = clientOf({ name: 'sdk', baseUrl: upstream.origin, ...FAST });

    const response = await client.fetch('/big');

    expect(await response.json()).toEqual({ ok: true });
    expect(upstream.received).toHaveLength(4);
    // Each discarded body was read to its end, not left holding its socket: later attempts reuse a connection (a
    // body left unread keeps its socket busy, and every attempt would need a new one).
    expect(upstream.connections()).toBeLessThan(4);
  });

  it('get: a long failed body is cut after the excerpt and its socket closed, not left open', async () => {
    upstream = await startUpstream((_request, res, n) =>
      n < 3 ? answer(res, 503, { filler: 'x'.repeat(1024 * 1024) }) : answer(res, 200, { ok: true }),
    );
    const { client } = clientOf({ name: 'api', baseUrl: upstream.origin, ...FAST });

    await client.get('/big');

    // Two 1 MiB answers given up: their sockets were closed (not kept out of the pool until garbage collected).
    await vi.waitFor(() => expect(upstream!.closedConnections()).toBeGreaterThanOrEqual(2));
  });

  it('client.fetch: after the retries, the last 503 answer is handed over with its body', async () => {
    upstream = await startUpstream((_request, res, n) => answer(res, 503, { n }));
    const { client } = clientOf({ name: 'sdk', baseUrl: upstream.origin, ...FAST });

    const response = await client.fetch('/down');

    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ n: 4 });
  });

  it("a client given another fetch aborts it through the attempt's signal: the connection is closed", async () => {
    upstream = await startUpstream((_request, res, n) => {
      if (n === 2) answer(res, 200, { ok: true });
    });
    const signals: (AbortSignal | null | undefined)[] = [];
    const instrumented: typeof fetch = (input, init) => {
      signals.push(init?.signal);
      return fetch(input, init);
    };
    const { client } = clientOf({
      name: 'api',
      baseUrl: upstream.origin,
      fetch: instrumented,
      attemptTimeout: 100,
      ...FAST,
    });

    expect(await (await client.get('/x')).json()).toEqual({ ok: true });
    expect(signals.map((signal) => signal?.aborted)).toEqual([true, false]);
    expect(await upstream.received[0].closed).toBe('aborted');
  });

  it("client.fetch sends through the caller's init.dispatcher, and an attempt timeout still closes it", async () => {
    upstream = await startUpstream((_request, res, n) => {
      if (n === 2) answer(res, 200, { ok: true });
    });
    // An undici dispatcher (a proxy agent, a mock) in the shape fetch calls: here one that passes requests on.
    const global = (globalThis as Record<symbol, unknown>)[Symbol.for('undici.globalDispatcher.1')] as {
      dispatch(options: unknown, handler: unknown): boolean;
    };
    const paths: string[] = [];
    const dispatcher = {
      dispatch(options: { path: string }, handler: unknown): boolean {
        paths.push(options.path);
        return global.dispatch(options, handler);
      },
    };
    const { client } = clientOf({ name: 'sdk', baseUrl: upstream.origin, attemptTimeout: 100, ...FAST });

    const response = await client.fetch('/through', { dispatcher } as RequestInit);

    expect(await response.json()).toEqual({ ok: true });
    expect(paths).toEqual(['/through', '/through']);
    expect(await upstream.received[0].closed).toBe('aborted');
  });
});
