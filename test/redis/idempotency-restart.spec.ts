import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RedisStore } from '../../lib/redis/index.js';
import { RedisProxy } from '../support/redis-proxy.js';
import { RedisServer } from '../support/redis-server.js';

/**
 * The liveness of a key after Redis was killed mid-acquire and restarted (issue 27: a key of the model test answered
 * 503 for about 7 s after a kill). A Redis restarting with persistence answers `INFO` with `loading:1` and an
 * estimated time while it loads; ioredis then waited that estimate (at least 1 s, up to 10 s, however soon the load
 * ended) before asking again, and every request of that replica was answered 503 meanwhile. The proxy plays the
 * moments of the restart the test cannot time on a real server: the kill just after the acquire took effect, and the
 * load.
 */
describe('a key after Redis was killed mid-acquire and restarted with its data', () => {
  let server: RedisServer;
  let proxy: RedisProxy;
  let store: RedisStore;
  let admin: Redis;

  beforeEach(async () => {
    server = await RedisServer.start();
    // A restart reporting a 10 s load: ioredis's own wait would be min(10 s, maxLoadingRetryTime 10 s).
    proxy = await RedisProxy.start(server.port, 10);
    // The store's own client, as the store configures it; RESP2 because the proxy plays a loading Redis in RESP2.
    store = new RedisStore({ url: proxy.url, prefix: 'restart:', commandTimeout: 200, redisOptions: { protocol: 2 } });
    admin = new Redis(server.url);
  });

  afterEach(async () => {
    await store.close();
    admin.disconnect();
    await proxy.close();
    await server.stop();
  });

  it('answers once Redis has loaded, and the lease the lost acquire took is undone', async () => {
    const key = `order-${randomUUID()}`;
    expect(await store.idempotency.acquire(`${key}-warm`, 'fp', randomUUID(), 60_000)).toEqual({
      outcome: 'acquired',
    });

    // The acquire reaches Redis and takes its lease; Redis dies before its reply leaves: the client hears nothing.
    proxy.swallowNextReply();
    const lost = store.idempotency.acquire(key, 'fp', 'lost-token', 60_000);
    await expect(lost).rejects.toThrow();
    expect(await admin.hget(`restart:idempotency:{${key}}`, 'token')).toBe('lost-token');

    // Redis is back and loading its data: the store's client connects and is told to wait.
    proxy.loading();
    await vi.waitFor(() => expect(proxy.infosWhileLoading).toBeGreaterThan(0), { timeout: 5000, interval: 20 });
    proxy.ready();

    // Within a few of the client's 100 ms readiness checks (not the 10 s estimate) the key answers again: the lost
    // acquire's lease was cancelled as soon as Redis could hear it, so a retry with a new token runs.
    await vi.waitFor(
      async () => {
        const retried = await store.idempotency.acquire(key, 'fp', randomUUID(), 60_000);
        expect(retried).toEqual({ outcome: 'acquired' });
      },
      { timeout: 3000, interval: 50 },
    );
  });
});
