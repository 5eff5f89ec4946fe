import type { INestApplicationContext } from '@nestjs/common';
import { connect, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ResilienceRegistry, type ResilienceEvent } from '../../lib/index.js';
import { getRmqPublisherToken, type RmqPublisher, type RmqPublishResult } from '../../lib/rabbitmq/index.js';
import { RedisOutboxStore, RedisStore } from '../../lib/redis/index.js';
import { RabbitMqServer } from '../support/rabbitmq-server.js';
import { freePort, RedisServer } from '../support/redis-server.js';
import { startPublisherApp } from '../support/rmq-publisher-app.js';

const KEYS = ['outbox.a', 'outbox.b', 'outbox.c'];
const REDIS_KEYS = ['redis.a', 'redis.b'];

describe('RmqPublisher on a real RabbitMQ broker that stops and restarts', { timeout: 240_000 }, () => {
  let broker: RabbitMqServer;
  let app: INestApplicationContext | undefined;
  let redis: RedisServer;

  beforeAll(async () => {
    [broker, redis] = await Promise.all([RabbitMqServer.start(), RedisServer.start()]);
    const connection = await connect(broker.url);
    const channel = await connection.createChannel();
    for (const queue of [...KEYS, ...REDIS_KEYS]) await channel.assertQueue(queue, { durable: true });
    await connection.close();
  }, 300_000);

  afterAll(async () => {
    await app?.close();
    await broker?.dispose();
    await redis?.stop();
  }, 180_000);

  /** Every message waiting in `queue`, taken (no consumer is attached): its message id, oldest first. */
  async function drainQueue(connection: ChannelModel, queue: string): Promise<string[]> {
    const channel = await connection.createChannel();
    const ids: string[] = [];
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (message === false) break;
      ids.push(message.properties.messageId as string);
    }
    await channel.close();
    return ids;
  }

  it('parks what the stopped broker could not confirm and delivers each message once, in order per key', async () => {
    let publisher: RmqPublisher, registry: ResilienceRegistry, events: ResilienceEvent[];
    ({ app, publisher, registry, events } = await startPublisherApp({
      name: 'orders',
      urls: [broker.url],
      retry: { maxAttempts: 3, initialDelay: 20, maxDelay: 200 },
      confirmTimeout: 3000,
      maxReconnectDelay: 500,
      outbox: { drainInterval: 1000 },
    }));
    expect(publisher.connected).toBe(true);

    // 300 messages over three routing keys: 100 while the broker is up, 200 more while it stops.
    const N = 300;
    const sent = new Map<string, string[]>(KEYS.map((key) => [key, []]));
    const results: Promise<RmqPublishResult>[] = [];
    const publish = (i: number) => {
      const key = KEYS[i % KEYS.length];
      const id = `m-${String(i).padStart(3, '0')}`;
      sent.get(key)!.push(id);
      results.push(publisher.publish(key, JSON.stringify({ i }), { messageId: id }));
    };
    for (let i = 0; i < 100; i++) publish(i);
    expect((await Promise.all(results)).every((outcome) => outcome.status === 'confirmed')).toBe(true);
    const stopped = broker.stop();
    for (let i = 100; i < N; i++) {
      publish(i);
      if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await stopped;
    const outcomes = await Promise.all(results); // none rejects: confirmed or parked
    const parked = outcomes.filter((outcome) => outcome.status === 'parked').length;
    expect(parked).toBeGreaterThan(0);
    expect(outcomes.map((outcome) => outcome.messageId)).toEqual(
      [...Array(N).keys()].map((i) => `m-${String(i).padStart(3, '0')}`),
    );
    expect(registry.outboxes.get('orders').snapshot()).toMatchObject({ depth: parked, connected: false });

    // Still down: another publish is parked at once behind the others of its key, and the caller is told so.
    expect((await publisher.publish(KEYS[0], '{}', { messageId: 'late' })).status).toBe('parked');
    sent.get(KEYS[0])!.push('late');

    await broker.restart();
    await vi.waitFor(() => expect(registry.outboxes.get('orders').snapshot().depth).toBe(0), {
      timeout: 120_000,
      interval: 200,
    });
    expect(registry.outboxes.get('orders').snapshot()).toMatchObject({ parked: parked + 1, sent: parked + 1 });
    expect(events.filter((event) => event.type === 'outbox-sent')).toHaveLength(parked + 1);

    const connection = await connect(broker.url);
    let duplicates = 0;
    for (const key of KEYS) {
      const received = await drainQueue(connection, key);
      // An idempotent consumer keeps the first copy of each id: every message exactly once, in publish order.
      const firstCopies = received.filter((id, index) => received.indexOf(id) === index);
      duplicates += received.length - firstCopies.length;
      expect(firstCopies, key).toEqual(sent.get(key));
    }
    await connection.close();
    // Copies can only be of messages the broker took while stopping but could not confirm (at least once).
    console.log(
      `outbox test: ${N - parked} confirmed before the stop, ${parked + 1} parked, ${duplicates} duplicate copies`,
    );

    // Back to normal: a new publish is confirmed directly.
    expect((await publisher.publish(KEYS[1], '{}')).status).toBe('confirmed');
  });

  it('keeps parked messages in Redis across a restart; two replicas drain them once, in order', async () => {
    const store = new RedisStore({ url: redis.url, prefix: 'publisher-spec:', commandTimeout: 2000 });
    const outbox = { store: new RedisOutboxStore(store), drainInterval: 500 };
    const retry = { maxAttempts: 1 };
    const publisherApp = async (url: string): Promise<INestApplicationContext> =>
      (await startPublisherApp({ name: 'billing', urls: [url], retry, outbox, maxReconnectDelay: 200 })).app;

    // A first run whose broker is unreachable parks 60 messages in Redis, then stops.
    const first = await publisherApp(`amqp://guest:guest@127.0.0.1:${await freePort()}`);
    const before = first.get<RmqPublisher>(getRmqPublisherToken('billing'));
    const sent = new Map<string, string[]>(REDIS_KEYS.map((key) => [key, []]));
    for (let i = 0; i < 60; i++) {
      const key = REDIS_KEYS[i % 2];
      const id = `r-${String(i).padStart(2, '0')}`;
      sent.get(key)!.push(id);
      expect((await before.publish(key, String(i), { messageId: id })).status).toBe('parked');
    }
    await first.close();
    expect(await new RedisOutboxStore(store).size('billing')).toMatchObject({ count: 60 });

    // Two replicas start against the broker: one drains at a time (the lease), nothing is sent twice.
    const replicas = await Promise.all([publisherApp(broker.url), publisherApp(broker.url)]);
    try {
      await vi.waitFor(
        async () => expect(await new RedisOutboxStore(store).size('billing')).toEqual({ count: 0, bytes: 0 }),
        { timeout: 60_000, interval: 200 },
      );
      const sentBy = replicas.map((replica) => replica.get(ResilienceRegistry).outboxes.get('billing').snapshot().sent);
      expect(sentBy[0] + sentBy[1]).toBe(60);
      const connection = await connect(broker.url);
      for (const key of REDIS_KEYS) expect(await drainQueue(connection, key), key).toEqual(sent.get(key));
      await connection.close();
    } finally {
      for (const replica of replicas) await replica.close();
      await store.close();
    }
  });
});
