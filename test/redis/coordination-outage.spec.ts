import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ResilienceEvents,
  ResilienceRegistry,
  type CircuitBreakerOptions,
  type ResilienceEvent,
} from '../../lib/index.js';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from '../../lib/core/circuit-breaker/circuit-breaker.options.js';
import { RedisStore } from '../../lib/redis/index.js';
import { RedisServer } from '../support/redis-server.js';

const options: CircuitBreakerOptions = {
  ...DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  consecutiveFailures: 1,
  openDuration: 10_000,
  coordination: 'redis',
};

let prefixes = 0;

/** One replica: its own store (own connections), registry and breaker "payments". */
function replica(url: string, prefix: string) {
  const store = new RedisStore({ url, prefix, commandTimeout: 100 });
  const events = new ResilienceEvents();
  const seen: ResilienceEvent[] = [];
  events.subscribe((event) => seen.push(event));
  const registry = new ResilienceRegistry(events, store, store);
  const circuit = registry.circuitBreakerFor('payments', options);
  const openLocally = () => circuit.onFailure(circuit.acquire(), new Error('gateway down'), 0);
  return { store, circuit, seen, openLocally };
}

describe('breaker coordination after a Redis outage', () => {
  let server: RedisServer;
  const replicas: ReturnType<typeof replica>[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterEach(async () => {
    for (const each of replicas.splice(0)) await each.store.close();
  });
  afterAll(() => server.stop());

  it('a replica started while Redis is down hears peers once Redis is back, without a restart', async () => {
    const prefix = `outage-${prefixes++}:`;
    await server.stop();
    const late = replica(server.url, prefix); // boots during the outage: its SUBSCRIBE cannot be sent yet
    replicas.push(late);
    await new Promise((resolve) => setTimeout(resolve, 700)); // several failed connection attempts
    await server.restart();
    const peer = replica(server.url, prefix);
    replicas.push(peer);
    // Wait until both replicas are connected again (ioredis backs off up to 2 s between attempts).
    await vi.waitFor(
      async () => {
        const clients = String(await peer.store.redis.client('LIST')).split('\n');
        expect(clients.filter((line) => / sub=1 /.test(line))).toHaveLength(2); // the peer's and the late one's
        // ... and the late replica's main connection is back, so nothing reaches it by reading keys later.
        expect(late.store.redis.status).toBe('ready');
      },
      { timeout: 5_000, interval: 50 },
    );
    peer.openLocally();
    expect(peer.circuit.state).toBe('open');
    await vi.waitFor(() => expect(late.circuit.state).toBe('open'), { timeout: 1_000, interval: 10 });
    expect(late.seen).toContainEqual(
      expect.objectContaining({ type: 'circuit-state', to: 'open', reason: 'peer-opened' }),
    );
  });

  it('a replica that missed an opening during an outage reads it when Redis comes back', async () => {
    const prefix = `outage-${prefixes++}:`;
    const cut = replica(server.url, prefix);
    replicas.push(cut);
    await vi.waitFor(() => expect(cut.store.redis.status).toBe('ready'), { timeout: 2_000, interval: 10 });
    await server.stop();
    await server.restart();
    // A peer opens while the first replica is still reconnecting: the message is lost, the key stays.
    const peer = replica(server.url, prefix);
    replicas.push(peer);
    await vi.waitFor(() => expect(peer.store.redis.status).toBe('ready'), { timeout: 2_000, interval: 10 });
    peer.openLocally();
    await vi.waitFor(() => expect(cut.circuit.state).toBe('open'), { timeout: 5_000, interval: 20 });
  });
});

describe("onStoreError: 'local' with fewer tokens than replicas", () => {
  it('admits at least one call per replica while Redis is down', async () => {
    const server = await RedisServer.start();
    const store = new RedisStore({ url: server.url, prefix: 'local-share:', replicas: 3, commandTimeout: 50 });
    new ResilienceRegistry(new ResilienceEvents(), store);
    await server.stop();
    try {
      const rule = { capacity: 2, refillPerMs: 2 / 60_000 }; // limit 2 shared by 3 replicas
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push((await store.consume('k', rule, 1, 0)).allowed);
      expect(decisions).toEqual([true, false, false, false]);
    } finally {
      await store.close();
    }
  });
});
