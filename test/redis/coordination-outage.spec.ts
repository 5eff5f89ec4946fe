import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ResilienceEvents,
  ResilienceRegistry,
  type CircuitBreakerOptions,
  type ResilienceEvent,
} from '../../lib/index.js';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from '../../lib/core/circuit-breaker/circuit-breaker.options.js';
import { RedisStore } from '../../lib/redis/index.js';
import { freePort, RedisServer } from '../support/redis-server.js';

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

/**
 * A TCP relay to Redis on its own port that the test can cut (every connection through it dropped, new ones
 * refused) and restore on the same port: one replica loses Redis while Redis and the other replicas carry on.
 */
class CuttableLink {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly target: number,
    readonly port: number,
  ) {}

  static async open(target: number): Promise<CuttableLink> {
    const link = new CuttableLink(target, await freePort());
    await link.restore();
    return link;
  }

  async restore(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection(this.target, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.close();
    for (const socket of this.sockets) socket.destroy();
    if (server) await once(server, 'close');
  }
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

  it('a replica that missed an opening while cut off from Redis reads it when it reconnects', async () => {
    const prefix = `outage-${prefixes++}:`;
    const link = await CuttableLink.open(server.port);
    const cut = replica(`redis://127.0.0.1:${link.port}`, prefix); // reaches Redis only through the link

    const peer = replica(server.url, prefix);
    replicas.push(cut, peer);
    const subscribers = async () =>
      Number(((await peer.store.redis.pubsub('NUMSUB', `${prefix}circuit-open`)) as [string, number])[1]);
    await vi.waitFor(async () => expect(await subscribers()).toBe(2), { timeout: 5_000, interval: 10 });
    try {
      await link.cut();
      // Redis no longer counts the cut replica's subscriber: the opening cannot reach it by pub/sub.
      await vi.waitFor(async () => expect(await subscribers()).toBe(1), { timeout: 5_000, interval: 10 });
      await vi.waitFor(() => expect(cut.store.redis.status).not.toBe('ready'), { timeout: 5_000, interval: 10 });
      peer.openLocally();
      expect(peer.circuit.state).toBe('open');
      expect(cut.circuit.state).toBe('closed');
    } finally {
      await link.restore();
    }
    // Reconnected, it reads the opening from its key in Redis (the message itself was lost).
    await vi.waitFor(() => expect(cut.circuit.state).toBe('open'), { timeout: 10_000, interval: 20 });
    await cut.store.close();
    replicas.splice(replicas.indexOf(cut), 1);
    await link.cut();
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
