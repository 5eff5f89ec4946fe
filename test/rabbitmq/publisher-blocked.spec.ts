import type { INestApplicationContext } from '@nestjs/common';
import { connect } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ResilienceEvent, ResilienceRegistry } from '../../lib/index.js';
import type { RmqPublisher, RmqPublishResult } from '../../lib/rabbitmq/index.js';
import { RabbitMqServer } from '../support/rabbitmq-server.js';
import { startPublisherApp } from '../support/rmq-publisher-app.js';

const QUEUE = 'blocked.orders';

describe('RmqPublisher while the broker blocks publishers (a memory alarm)', { timeout: 240_000 }, () => {
  let broker: RabbitMqServer;
  let app: INestApplicationContext | undefined;

  beforeAll(async () => {
    broker = await RabbitMqServer.start();
    const connection = await connect(broker.url);
    const channel = await connection.createChannel();
    await channel.assertQueue(QUEUE, { durable: true });
    await connection.close();
  }, 300_000);

  afterAll(async () => {
    await app?.close();
    await broker?.dispose();
  }, 180_000);

  it('parks what the blocked broker does not confirm, never hangs a publish, sends each once unblocked', async () => {
    let publisher: RmqPublisher, registry: ResilienceRegistry, events: ResilienceEvent[];
    ({ app, publisher, registry, events } = await startPublisherApp({
      name: 'orders',
      urls: [broker.url],
      retry: { maxAttempts: 3, initialDelay: 20, maxDelay: 100 },
      confirmTimeout: 500,
      outbox: { drainInterval: 200 },
    }));
    expect((await publisher.publish(QUEUE, '{}', { messageId: 'before' })).status).toBe('confirmed');

    // The memory alarm: the broker stops reading from publishing connections and tells them `connection.blocked`.
    // The first publishes go out and are never confirmed (the confirm timeout ends their wait); the retries after
    // the notice fail at once. None may hang: each resolves as parked.
    await broker.ctl('set_vm_memory_high_watermark', '0');
    const ids = Array.from({ length: 20 }, (_, i) => `m-${String(i).padStart(2, '0')}`);
    const outcomes: RmqPublishResult[] = await Promise.all(
      ids.map((id) => publisher.publish(QUEUE, JSON.stringify({ id }), { messageId: id })),
    );
    expect(outcomes).toEqual(ids.map((messageId) => ({ messageId, status: 'parked' })));
    const reasons = events
      .filter((event) => event.type === 'outbox-parked')
      .map((event) => String((event as { error?: unknown }).error));
    expect(reasons).toHaveLength(ids.length);
    for (const reason of reasons) expect(reason).toMatch(/no publisher confirm within 500 ms|broker blocks publishers/);
    expect(reasons.some((reason) => /broker blocks publishers/.test(reason))).toBe(true);
    expect(registry.outboxes.get('orders').snapshot()).toMatchObject({ depth: ids.length, parked: ids.length });

    // Still blocked after a few drain rounds: nothing is lost or dropped while the outbox waits.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(registry.outboxes.get('orders').snapshot().depth).toBe(ids.length);

    // The alarm clears: the outbox sends every parked message, confirmed.
    await broker.ctl('set_vm_memory_high_watermark', '0.4');
    await vi.waitFor(() => expect(registry.outboxes.get('orders').snapshot().depth).toBe(0), {
      timeout: 60_000,
      interval: 100,
    });
    expect(registry.outboxes.get('orders').snapshot()).toMatchObject({ sent: ids.length });

    // Publishing is at least once: a message the broker read after the alarm cleared and the outbox re-sent arrives
    // twice; a consumer keyed on the message id keeps the first copy of each, in publish order.
    const connection = await connect(broker.url);
    const channel = await connection.createChannel();
    const received: string[] = [];
    for (let message = await channel.get(QUEUE, { noAck: true }); message;) {
      received.push(message.properties.messageId as string);
      message = await channel.get(QUEUE, { noAck: true });
    }
    await connection.close();
    expect(received.filter((id, index) => received.indexOf(id) === index)).toEqual(['before', ...ids]);

    expect((await publisher.publish(QUEUE, '{}')).status).toBe('confirmed');
  });
});
