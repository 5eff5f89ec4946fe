import { afterEach, describe, expect, it } from 'vitest';
import type { HttpClientError } from 'nest-resilience/http';
import { answer, startUpstream, type Upstream } from './upstream.js';
import { clientOf } from './support.js';

const upstreams: Upstream[] = [];
afterEach(async () => {
  await Promise.all(upstreams.splice(0).map((upstream) => upstream.close()));
});

async function upstreamOf(...args: Parameters<typeof startUpstream>): Promise<Upstream> {
  const upstream = await startUpstream(...args);
  upstreams.push(upstream);
  return upstream;
}

describe('one origin, one set of policies', () => {
  it('a slow host beside a healthy one: only the slow host opens its breaker', async () => {
    const slow = await upstreamOf(() => undefined); // never answers
    const healthy = await upstreamOf((_request, res) => answer(res, 200, { ok: true }));
    const { client, registry } = clientOf({
      name: 'partners',
      attemptTimeout: 300,
      retry: false,
      circuitBreaker: { window: 'count', windowSize: 4, minimumCalls: 4, failureRateThreshold: 50 },
    });

    for (let i = 0; i < 4; i++) {
      await expect(client.get(`${slow.origin}/quote`)).rejects.toMatchObject({
        code: 'TIMEOUT',
        gaveUp: 'attempt-timeout',
      });
      await client.get(`${healthy.origin}/quote`);
    }

    const breakers = registry.circuitBreakers;
    expect(breakers.names()).toEqual([`partners ${slow.origin}`, `partners ${healthy.origin}`]);
    expect(breakers.get(`partners ${slow.origin}`).snapshot().state).toBe('open');
    expect(breakers.get(`partners ${healthy.origin}`).snapshot().state).toBe('closed');
    // The open breaker answers at once, without sending; the healthy host still answers.
    const refused = (await client.get(`${slow.origin}/quote`).catch((error: unknown) => error)) as HttpClientError;
    expect(refused).toMatchObject({ code: 'BROKEN_CIRCUIT', gaveUp: 'circuit-breaker', attempts: 0 });
    expect(refused.policy).toBe(`partners ${slow.origin}`);
    expect(slow.received).toHaveLength(4);
    expect((await client.get(`${healthy.origin}/quote`)).status).toBe(200);
    // Each timed-out request was aborted: the slow host saw its connection closed.
    expect(await Promise.all(slow.received.map((request) => request.closed))).toEqual(Array(4).fill('aborted'));
  });

  it('a 404 does not count against the breaker; a 503 does', async () => {
    const upstream = await upstreamOf((request, res) => answer(res, request.url === '/missing' ? 404 : 503));
    const { client, registry } = clientOf({
      name: 'api',
      baseUrl: upstream.origin,
      retry: false,
      circuitBreaker: { window: 'count', windowSize: 3, minimumCalls: 3, failureRateThreshold: 100 },
    });
    const name = `api ${upstream.origin}`;

    for (let i = 0; i < 3; i++) await client.get('/missing').catch(() => undefined);
    expect(registry.circuitBreakers.get(name).snapshot().state).toBe('closed');
    for (let i = 0; i < 3; i++) await client.get('/down').catch(() => undefined);
    expect(registry.circuitBreakers.get(name).snapshot().state).toBe('open');
  });

  it('bulkheads per origin: a full origin refuses, another still sends', async () => {
    const release: (() => void)[] = [];
    const held = await upstreamOf((_request, res) => {
      release.push(() => answer(res, 200));
    });
    const other = await upstreamOf((_request, res) => answer(res, 200));
    const { client, registry } = clientOf({ name: 'api', bulkhead: { maxConcurrent: 1 }, retry: false });

    const first = client.get(`${held.origin}/a`);
    await expect.poll(() => held.received.length).toBe(1);
    await expect(client.get(`${held.origin}/b`)).rejects.toMatchObject({
      code: 'BULKHEAD_REJECTED',
      gaveUp: 'bulkhead',
    });
    expect((await client.get(`${other.origin}/c`)).status).toBe(200);
    expect(registry.bulkheads.get(`api ${held.origin}`).snapshot().active).toBe(1);

    release[0]();
    await first;
    expect(registry.bulkheads.get(`api ${held.origin}`).snapshot().active).toBe(0);
  });

  it('origins past maxOrigins share one set, so the registry and the metrics stay bounded', async () => {
    const hosts = [];
    for (let i = 0; i < 4; i++) hosts.push(await upstreamOf((_request, res) => answer(res, 200)));
    const { client, registry } = clientOf({ name: 'crawler', maxOrigins: 2 });
    registry.targets.enable();

    for (const host of hosts) await client.get(`${host.origin}/`);

    const names = [`crawler ${hosts[0].origin}`, `crawler ${hosts[1].origin}`, 'crawler *'];
    expect(client.origins()).toEqual([hosts[0].origin, hosts[1].origin, '*']);
    expect(registry.circuitBreakers.names()).toEqual(names);
    expect(registry.bulkheads.names()).toEqual(names);
    // Call metrics (Prometheus `target`, OpenTelemetry, the dashboard) per client and origin, bounded the same way.
    expect(registry.targets.names()).toEqual(names);
    expect(registry.targets.get('crawler *').snapshot().outcomes.success).toBe(2);
  });

  it('a rate limit per origin', async () => {
    const a = await upstreamOf((_request, res) => answer(res, 200));
    const b = await upstreamOf((_request, res) => answer(res, 200));
    const { client } = clientOf({ name: 'api', rateLimit: { limit: 1, interval: 60_000 } });

    await client.get(`${a.origin}/`);
    await expect(client.get(`${a.origin}/`)).rejects.toMatchObject({
      code: 'RATE_LIMIT_EXCEEDED',
      gaveUp: 'rate-limit',
    });
    await client.get(`${b.origin}/`);
    expect([a.received.length, b.received.length]).toEqual([1, 1]);
  });
});
