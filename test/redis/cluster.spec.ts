import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ResilienceEvents, ResilienceRegistry } from '../../lib/index.js';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from '../../lib/core/circuit-breaker/circuit-breaker.options.js';
import { RedisStore } from '../../lib/redis/index.js';
import { RedisCluster } from '../support/redis-cluster.js';

/** `limit` tokens per minute, burst `limit`. */
const perMinute = (limit: number) => ({ capacity: limit, refillPerMs: limit / 60_000 });

describe('RedisStore on a real three-node Redis Cluster', () => {
  let cluster: RedisCluster;
  const clients: Cluster[] = [];
  // Closed before the nodes stop: a store left open keeps its pub/sub connection reconnecting to stopped nodes.
  const stores: RedisStore[] = [];
  const storeOn = (options: ConstructorParameters<typeof RedisStore>[0]) => {
    const store = new RedisStore(options);
    stores.push(store);
    return store;
  };
  const client = () => {
    const created = new Cluster(cluster.startupNodes, { enableOfflineQueue: true });
    clients.push(created);
    return created;
  };

  beforeAll(async () => {
    cluster = await RedisCluster.start();
  }, 30_000);
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    for (const each of clients) each.disconnect();
    await cluster?.stop();
  });

  it('keeps every bucket on its own slot: keys spread over the nodes, each limited exactly', async () => {
    const connected = client();
    // Connected first: a first script call slower than commandTimeout (the cluster client learning its slots, under
    // load) would be decided locally for retryInterval, and nothing would reach the nodes.
    await new Promise((resolve) => connected.once('ready', resolve));
    // What this checks is where buckets live and that each is exact, not the store's timeout: a first script call
    // redirected across nodes on a loaded machine may take longer than the default 200 ms and be decided locally.
    const store = storeOn({ client: connected, prefix: 'cluster:', commandTimeout: 5_000 });
    const keys = Array.from({ length: 12 }, (_, i) => `api:user-${i}`);
    for (const key of keys) {
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push(await store.consume(key, perMinute(3), 1, 0));
      expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, true, false]);
    }
    // The buckets really live on different nodes (so the scripts ran on each).
    // Asked node by node, directly (the cluster client's view of its masters can lag under load).
    const holders = new Set<number>();
    for (const { port } of cluster.startupNodes) {
      const node = new Redis({ host: '127.0.0.1', port });
      if ((await node.keys('cluster:*')).length > 0) holders.add(port);
      node.disconnect();
    }
    expect(holders.size).toBeGreaterThan(1);
  });

  it('coordinates breakers across two replicas through the cluster (pub/sub reaches every node)', async () => {
    const options = {
      ...DEFAULT_CIRCUIT_BREAKER_OPTIONS,
      consecutiveFailures: 1,
      openDuration: 5_000,
      coordination: 'redis' as const,
    };
    const replicas = [0, 1].map(() => {
      const store = storeOn({ client: client(), prefix: 'cluster-cb:' });
      const registry = new ResilienceRegistry(new ResilienceEvents(), store, store);
      return registry.circuitBreakerFor('payments', options);
    });
    // Both replicas subscribed (classic pub/sub: each node counts the subscribers connected to it).
    const nodes = cluster.startupNodes.map(({ port }) => new Redis({ host: '127.0.0.1', port }));
    try {
      await vi.waitFor(async () => {
        let subscribers = 0;
        for (const node of nodes) {
          const [, count] = (await node.pubsub('NUMSUB', 'cluster-cb:circuit-open')) as [string, number];
          subscribers += Number(count);
        }
        expect(subscribers).toBe(2);
      });
    } finally {
      for (const node of nodes) node.disconnect();
    }
    replicas[0].onFailure(replicas[0].acquire(), new Error('down'), 0);
    await vi.waitFor(() => expect(replicas[1].state).toBe('open'));
  });

  it('keeps each idempotency record on one slot: acquire, complete and get work for keys on every node', async () => {
    const connected = client();
    await new Promise((resolve) => connected.once('ready', resolve));
    // As above: where records live is the point, not the store's timeout; a first call redirected across nodes on a
    // loaded machine may outlast the default 200 ms and fail as a store outage.
    const store = storeOn({ client: connected, prefix: 'cluster-idem:', commandTimeout: 5_000 });
    const keys = Array.from({ length: 12 }, (_, i) => `["Orders.create","POST","user-${i}","key-${i}"]`);
    for (const key of keys) {
      expect(await store.idempotency.acquire(key, 'fp', 'token', 5000)).toEqual({ outcome: 'acquired' });
      expect(await store.idempotency.complete(key, 'token', `answer ${key}`, 60_000)).toBe(true);
      expect(await store.idempotency.get(key)).toEqual({
        state: 'completed',
        fingerprint: 'fp',
        response: `answer ${key}`,
      });
    }
    const holders = new Set<string>();
    for (const node of clients.at(-1)!.nodes('master')) {
      if ((await node.keys('cluster-idem:*')).length > 0) holders.add(node.options.port!.toString());
    }
    expect(holders.size).toBeGreaterThan(1);
  });

  it('several limits on different nodes: a refusal by one gives back what the others spent', async () => {
    const store = storeOn({ client: client(), prefix: 'cluster-many:' });
    // Keys of different limits: different slots (checked below), so no single script can take both.
    const request = (key: string, limit: number) => ({ key, rule: perMinute(limit), cost: 1, maxWaitMs: 0 });
    const both = () => store.consumeAll([request('tight:u', 1), request('loose:u', 5)]);
    expect((await both()).map((decision) => decision.allowed)).toEqual([true, true]);
    for (let i = 0; i < 3; i++) expect((await both()).map((decision) => decision.allowed)).toEqual([false, true]);
    // "loose" kept the four tokens the refused requests did not use: only the admitted request spent one.
    expect(await store.consume('loose:u', perMinute(5), 1, 0)).toMatchObject({ allowed: true, remaining: 3 });
    const slots = await Promise.all(
      ['cluster-many:tight:u', 'cluster-many:loose:u'].map((key) => client().cluster('KEYSLOT', key)),
    );
    expect(slots[0]).not.toBe(slots[1]);
  });
});
