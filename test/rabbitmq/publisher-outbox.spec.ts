import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResilienceModule, ResilienceRegistry, type ResilienceEvent, ResilienceEvents } from '../../lib/index.js';
import {
  InjectRmqPublisher,
  MemoryOutboxStore,
  RmqPublishError,
  RmqPublisher,
  RmqPublisherModule,
} from '../../lib/rabbitmq/index.js';
import { freePort } from '../support/redis-server.js';

/**
 * A publisher whose broker is down (nothing listens on its port): what the caller gets while messages are parked,
 * and when the outbox is full. The broker itself is in publisher.spec.ts.
 */
describe('RmqPublisher with the broker down', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  @Injectable()
  class Orders {
    constructor(@InjectRmqPublisher('orders') readonly publisher: RmqPublisher) {}
  }

  async function app(outbox: { maxMessages?: number; maxBytes?: number; store?: MemoryOutboxStore } = {}) {
    const url = `amqp://guest:guest@127.0.0.1:${await freePort()}`;
    @Module({
      imports: [
        ResilienceModule.forRoot(),
        RmqPublisherModule.register({
          name: 'orders',
          urls: [url],
          queue: 'orders',
          retry: { maxAttempts: 2, initialDelay: 1, jitter: 'none' },
          outbox,
        }),
      ],
      providers: [Orders],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const nest = moduleRef.createNestApplication({ logger: false });
    await nest.init(); // starts although the broker is down
    closers.push(() => nest.close());
    const events: ResilienceEvent[] = [];
    nest.get(ResilienceEvents).subscribe((event) => events.push(event));
    return { publisher: nest.get(Orders).publisher, registry: nest.get(ResilienceRegistry), events };
  }

  it('starts, and resolves each publish as parked, in order, with its message id', async () => {
    const { publisher, registry, events } = await app();
    const results = await Promise.all([
      publisher.emit('order-placed', { id: 1 }, { messageId: 'm-1' }),
      publisher.emit('order-placed', { id: 2 }),
      publisher.publish('audit', 'raw bytes'),
    ]);
    expect(results.map((result) => result.status)).toEqual(['parked', 'parked', 'parked']);
    expect(results[0].messageId).toBe('m-1');
    expect(results[1].messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(registry.outboxes.get('orders').snapshot()).toMatchObject({
      depth: 3,
      parked: 3,
      sent: 0,
      connected: false,
    });
    const parked = events.filter((event) => event.type === 'outbox-parked');
    expect(parked.map((event) => [event.messageId, event.lane])).toEqual([
      ['m-1', '/orders'],
      [results[1].messageId, '/orders'],
      [results[2].messageId, '/audit'],
    ]);
    expect(parked[0].error).toBeInstanceOf(Error); // the connection's own error: why it was not sent
    expect(await publisher.outboxSize()).toEqual({ count: 3, bytes: expect.any(Number) as number });
  });

  it('refuses a publish with RMQ_OUTBOX_FULL when the outbox is full, and keeps the others', async () => {
    const { publisher, registry, events } = await app({ maxMessages: 2 });
    await publisher.emit('a', 1);
    await publisher.emit('a', 2);
    const refused = await publisher.emit('a', 3, { messageId: 'third' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RmqPublishError);
    expect(refused).toMatchObject({ code: 'RMQ_OUTBOX_FULL', policy: 'orders', messageId: 'third' });
    expect((refused as Error).message).toContain('maxMessages: 2');
    expect(events.filter((event) => event.type === 'outbox-full')).toEqual([
      { type: 'outbox-full', policy: 'orders', messageId: 'third', lane: '/orders', limit: 'maxMessages', depth: 2 },
    ]);
    expect(registry.outboxes.get('orders').snapshot()).toMatchObject({ depth: 2, parked: 2, refused: 1 });
  });

  it('refuses by bytes too', async () => {
    const { publisher } = await app({ maxBytes: 10 });
    await publisher.publish('k', 'x'.repeat(8));
    await expect(publisher.publish('k', 'y'.repeat(8))).rejects.toMatchObject({ code: 'RMQ_OUTBOX_FULL' });
  });

  it('rejects with RMQ_PUBLISH_FAILED when the outbox store fails: never a silent loss', async () => {
    const store = new MemoryOutboxStore();
    vi.spyOn(store, 'append').mockRejectedValue(new Error('disk on fire'));
    const { publisher } = await app({ store });
    const error = (await publisher.publish('k', 'x').catch((caught: unknown) => caught)) as RmqPublishError;
    expect(error.code).toBe('RMQ_PUBLISH_FAILED');
    expect((error.cause as Error).message).toBe('disk on fire');
  });

  it('rejects after close, naming the publisher', async () => {
    const publisher = new RmqPublisher({ name: 'closed', urls: ['amqp://127.0.0.1:1'] }, undefined, undefined);
    await publisher.close();
    await expect(publisher.publish('k', 'x')).rejects.toMatchObject({ code: 'RMQ_PUBLISH_FAILED', policy: 'closed' });
  });

  it('fails at registration on bad options, naming the option, the value and the publisher', () => {
    expect(() => RmqPublisherModule.register({ name: 'p', urls: [] })).toThrow(/"urls".*publisher|urls/);
    expect(() => RmqPublisherModule.register({ name: 'p', urls: ['amqp://x'], confirmTimeout: -1 })).toThrow(
      /confirmTimeout/,
    );
    expect(() =>
      RmqPublisherModule.register({ name: 'p', urls: ['amqp://x'], outbox: { maxMesages: 3 } as never }),
    ).toThrow(/Did you mean "maxMessages"/);
    expect(() => RmqPublisherModule.register({ name: 'p', urls: ['amqp://x'], retry: { maxAttempts: 0 } })).toThrow(
      /maxAttempts/,
    );
    expect(() =>
      RmqPublisherModule.register([
        { name: 'p', urls: ['amqp://x'] },
        { name: 'p', urls: ['amqp://y'] },
      ]),
    ).toThrow(/two publishers are called "p"/);
  });
});
