import {
  Controller,
  Injectable,
  Module,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type INestApplicationContext,
  type INestMicroservice,
  type NestInterceptor,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload, Transport, type RmqContext } from '@nestjs/microservices';
import { connect, type ConsumeMessage } from 'amqplib';
import { finalize } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Idempotent, ResilienceModule, ResilienceRegistry } from '../../lib/index.js';
import {
  getRmqPublisherToken,
  RmqAcknowledge,
  rmqMessageId,
  RmqPublisherModule,
  type RmqPublisher,
  type RmqPublishResult,
} from '../../lib/rabbitmq/index.js';
import { RabbitMqServer } from '../support/rabbitmq-server.js';

const EXCHANGE = 'ledger';
const QUEUE = 'ledger.entries';
const KEYS = ['ledger.a', 'ledger.b', 'ledger.c'];
/** Messages published: the first WHILE_UP confirmed with the broker up, the rest while it stops. */
const N = 300;
const WHILE_UP = 90;
/** The broker is told to stop once this one is published: the messages from WHILE_UP on are in flight then. */
const STOP_AT = 150;
/** Held in their handler across the broker's stop: the broker redelivers them to a consumer that still runs them. */
const HELD = ['m-003', 'm-004', 'm-005'];

const idOf = (i: number) => `m-${String(i).padStart(3, '0')}`;

/** The side effect: how many times the handler ran per message id, and in which order per routing key. */
const effects = new Map<string, number>();
const processed = new Map<string, string[]>(KEYS.map((key) => [key, []]));
/** Every delivery the consumer got (copies included), and how many of them have ended (settled or answered). */
const deliveries = new Map<string, number>();
let delivered = 0;
let ended = 0;
const gates = new Map<string, { promise: Promise<void>; release: () => void }>();
for (const id of HELD) {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  gates.set(id, { promise, release });
}

/** Outside the method's interceptors: sees each delivery, copies included, before `@Idempotent` answers it. */
@Injectable()
class DeliveryCounter implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler) {
    const id = rmqMessageId(undefined, context);
    deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
    delivered++;
    return next.handle().pipe(finalize(() => ended++));
  }
}

@Controller()
@UseInterceptors(DeliveryCounter)
class LedgerConsumer {
  @EventPattern('entry')
  @RmqAcknowledge({ queue: QUEUE })
  // The lease outlives the broker's restart: the held messages' first runs still own their keys when the copies come.
  @Idempotent({ key: rmqMessageId, lease: 600_000 })
  async book(@Payload() entry: { key: string }, @Ctx() context: unknown): Promise<void> {
    const id = ((context as RmqContext).getMessage() as ConsumeMessage).properties.messageId as string;
    effects.set(id, (effects.get(id) ?? 0) + 1);
    processed.get(entry.key)!.push(id);
    await gates.get(id)?.promise;
  }
}

/**
 * Issue 26's test: "stopping the broker while publishing parks messages in the outbox and delivers each exactly once
 * after it restarts". Publishing is at least once (a confirm lost while the broker stops means a re-send), so the
 * guarantee held here is the one docs/queues.md states: each message is PROCESSED exactly once by an `@Idempotent`
 * consumer keyed on the `messageId` the publisher stamps (stable across its retries and the outbox), none is lost,
 * and the first processing of each routing key's messages follows the publish order.
 */
describe('RmqPublisher and an @Idempotent consumer, the broker stopped mid-publish', () => {
  let broker: RabbitMqServer;
  let consumer: INestMicroservice | undefined;
  let producer: INestApplicationContext | undefined;

  beforeAll(async () => {
    broker = await RabbitMqServer.start();
  }, 300_000);

  afterAll(async () => {
    for (const gate of gates.values()) gate.release();
    for (const app of [producer, consumer]) {
      // A consumer whose broker went away may take long to close: bounded, so the broker below is always stopped.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        app?.close().catch(() => undefined),
        new Promise((resolve) => (timer = setTimeout(resolve, 15_000))),
      ]);
      clearTimeout(timer);
    }
    await broker?.dispose();
  }, 180_000);

  it('stopping the broker while publishing parks messages in the outbox; each is processed exactly once', async () => {
    @Module({ imports: [ResilienceModule.forRoot()], controllers: [LedgerConsumer] })
    class ConsumerModule {}
    consumer = await NestFactory.createMicroservice(ConsumerModule, {
      transport: Transport.RMQ,
      options: {
        urls: [broker.url],
        queue: QUEUE,
        queueOptions: { durable: true },
        exchange: EXCHANGE,
        exchangeType: 'topic',
        routingKey: 'ledger.#',
        noAck: false,
        prefetchCount: 50,
        socketOptions: { reconnectTimeInSeconds: 0.5 },
      },
      logger: false,
    });
    await consumer.listen(); // the exchange, the queue and its binding exist before the first publish

    @Module({
      imports: [
        ResilienceModule.forRoot(),
        RmqPublisherModule.register({
          name: 'ledger',
          urls: [broker.url],
          exchange: EXCHANGE,
          retry: { maxAttempts: 3, initialDelay: 20, maxDelay: 200 },
          confirmTimeout: 3000,
          maxReconnectDelay: 500,
          outbox: { drainInterval: 1000 },
        }),
      ],
    })
    class ProducerModule {}
    producer = await NestFactory.createApplicationContext(ProducerModule, { logger: false });
    const publisher = producer.get<RmqPublisher>(getRmqPublisherToken('ledger'));
    const outbox = producer.get(ResilienceRegistry).outboxes.get('ledger');
    const registry = consumer.get(ResilienceRegistry);

    const sent = new Map<string, string[]>(KEYS.map((key) => [key, []]));
    const results: Promise<RmqPublishResult>[] = [];
    const publish = (i: number) => {
      const key = KEYS[i % KEYS.length];
      sent.get(key)!.push(idOf(i));
      // Named ids, to check each one's place; the id the publisher stamps by default is checked at the end.
      results.push(publisher.emit('entry', { key }, { routingKey: key, messageId: idOf(i) }));
    };
    for (let i = 0; i < WHILE_UP; i++) publish(i);
    expect((await Promise.all(results)).every((result) => result.status === 'confirmed')).toBe(true);
    // The held messages are being processed (their side effect is done) and not acknowledged when the broker stops.
    await vi.waitFor(() => expect(HELD.map((id) => effects.get(id))).toEqual([1, 1, 1]), { timeout: 60_000 });

    // The broker is told to stop while messages are in flight (published, their confirms not back); more follow.
    let stopped: Promise<void> | undefined;
    for (let i = WHILE_UP; i < N; i++) {
      publish(i);
      if (i === STOP_AT) stopped = broker.stop();
      if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve)); // confirms come back meanwhile
    }
    await stopped;
    const outcomes = await Promise.all(results); // none rejects: confirmed or parked
    const confirmed = outcomes.filter((outcome) => outcome.status === 'confirmed').length;
    const parked = N - confirmed;
    expect(confirmed).toBeGreaterThanOrEqual(WHILE_UP);
    expect(parked).toBeGreaterThan(0);
    expect(outbox.snapshot()).toMatchObject({ depth: parked, parked, connected: false });

    await broker.restart();
    // The outbox drains, the consumer reconnects, and the broker redelivers what the consumer had not acknowledged,
    // the held messages among them: their copies find the first runs still holding the keys and wait for them.
    await vi.waitFor(() => expect(outbox.snapshot()).toMatchObject({ depth: 0, sent: parked }), {
      timeout: 120_000,
      interval: 200,
    });
    await vi.waitFor(() => expect(HELD.map((id) => deliveries.get(id))).toEqual([2, 2, 2]), { timeout: 120_000 });
    expect(HELD.map((id) => effects.get(id))).toEqual([1, 1, 1]);
    for (const gate of gates.values()) gate.release();

    // Every message processed, every delivery ended; then the consumer stops: whatever it left unacknowledged
    // would be back in the queue.
    await vi.waitFor(
      () => {
        expect(effects.size).toBe(N);
        expect(ended).toBe(delivered);
      },
      { timeout: 120_000, interval: 200 },
    );
    await consumer.close();
    consumer = undefined;
    const connection = await connect(broker.url);
    const channel = await connection.createChannel();
    expect((await channel.checkQueue(QUEUE)).messageCount).toBe(0);

    // Exactly once: each id ran once, none is lost, and each routing key's messages ran in publish order.
    expect([...effects.entries()].filter(([, runs]) => runs !== 1)).toEqual([]);
    expect(new Set(effects.keys())).toEqual(new Set([...Array(N).keys()].map(idOf)));
    for (const key of KEYS) expect(processed.get(key), key).toEqual(sent.get(key));

    // The copies the broker delivered were seen by the consumer and answered from the record, not run again.
    const duplicates = delivered - N;
    expect(duplicates).toBeGreaterThanOrEqual(HELD.length);
    expect(registry.idempotency.get('LedgerConsumer.book').snapshot()).toMatchObject({
      executed: N,
      replayed: duplicates,
      inFlight: 0,
    });
    const copied = [...deliveries.entries()].filter(([id, count]) => count > 1 && !HELD.includes(id));
    const resent = copied.filter(([id]) => outcomes[Number(id.slice(2))].status === 'parked').length;
    console.log(
      `rabbitmq outbox fault: ${confirmed} confirmed, ${parked} parked; ${duplicates} duplicate deliveries: ` +
        `${HELD.length} held across the stop, ${resent} of parked messages (the broker had them, their confirm ` +
        `was lost), ${copied.length - resent} of confirmed ones (acknowledgements lost in the stop)`,
    );

    // Without a messageId of the caller's, the publisher stamps one, the same on every copy it may send.
    const stamped = await publisher.emit('entry', { key: KEYS[0] }, { routingKey: KEYS[0] });
    expect(stamped.status).toBe('confirmed');
    expect(stamped.messageId).toMatch(/^[0-9a-f-]{36}$/);
    const message = await vi.waitFor(
      async () => {
        const got = await channel.get(QUEUE, { noAck: true });
        if (got === false) throw new Error('not routed yet');
        return got;
      },
      { timeout: 30_000 },
    );
    expect(message.properties.messageId).toBe(stamped.messageId);
    await connection.close();
  }, 600_000);
});
