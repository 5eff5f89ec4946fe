import { Controller, Module, type INestMicroservice, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload, RmqContext, Transport } from '@nestjs/microservices';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Fallback, ResilienceEvents, ResilienceModule, Retry, type ResilienceEvent } from '../../lib/index.js';
import { RMQ_HEADERS, RmqAcknowledge } from '../../lib/rabbitmq/index.js';
import { RabbitMqServer } from '../support/rabbitmq-server.js';

/** What the handlers saw: per message id, the delivery count header of each run, and when it ran. */
const runs = new Map<string, { deliveries: number; at: number }[]>();
/** Acknowledgements the library sent, per message id. */
const acks = new Map<string, number>();
/** The `dead-letter` events of every consumer app. */
const deadLetterEvents: Extract<ResilienceEvent, { type: 'dead-letter' }>[] = [];
/** How many runs of a message id fail before it succeeds (Infinity: a poison message). */
const failures = new Map<string, number>();

function run(id: string, context: RmqContext): void {
  const message = context.getMessage() as ConsumeMessage;
  const channel = context.getChannelRef() as Channel;
  if (!vi.isMockFunction(channel.ack)) {
    const ack = channel.ack.bind(channel);
    vi.spyOn(channel, 'ack').mockImplementation((acked, ...rest) => {
      const ackedId = (JSON.parse(acked.content.toString()) as { data: { id: string } }).data.id;
      acks.set(ackedId, (acks.get(ackedId) ?? 0) + 1);
      ack(acked, ...rest);
    });
  }
  const list = runs.get(id) ?? [];
  list.push({ deliveries: Number(message.properties.headers?.[RMQ_HEADERS.deliveries] ?? 0), at: Date.now() });
  runs.set(id, list);
  if (list.length <= (failures.get(id) ?? 0)) throw new Error(`order ${id} failed`);
}

@Controller()
class ImmediateController {
  @EventPattern('order')
  @RmqAcknowledge({ queue: 'immediate', maxDeliveries: 5 })
  handle(@Payload() order: { id: string }, @Ctx() context: unknown): void {
    run(order.id, context as RmqContext);
  }
}

const DELAY = 1500;

@Controller()
class DelayedController {
  @RmqAcknowledge({ queue: 'delayed', maxDeliveries: 3, delay: DELAY })
  @EventPattern('order')
  handle(@Payload() order: { id: string }, @Ctx() context: unknown): void {
    run(order.id, context as RmqContext);
  }
}

@Controller()
class PoisonController {
  @EventPattern('order')
  @RmqAcknowledge({ queue: 'poison', maxDeliveries: 3, delay: 300 })
  @Retry({ maxAttempts: 2, initialDelay: 1, jitter: 'none' })
  async handle(@Payload() order: { id: string }, @Ctx() context: unknown): Promise<void> {
    run(order.id, context as RmqContext);
  }
}

@Controller()
class FallbackController {
  @EventPattern('order')
  @Fallback({ value: 'default' })
  @RmqAcknowledge({ queue: 'fallback' })
  async handle(@Payload() order: { id: string }, @Ctx() context: unknown): Promise<void> {
    run(order.id, context as RmqContext);
  }
}

// A broker per file: it boots in seconds idle, much longer on a loaded machine.
/** A payload the handler can never process: `retryIf` sends it to the dead-letter queue on its first failure. */
class InvalidOrderError extends Error {
  override name = 'InvalidOrderError';
}

@Controller()
class ValidatingController {
  @EventPattern('order')
  @RmqAcknowledge({ queue: 'validating', maxDeliveries: 5, retryIf: (error) => !(error instanceof InvalidOrderError) })
  handle(@Payload() order: { id: string }, @Ctx() context: unknown): void {
    run(order.id, context as RmqContext);
    throw new InvalidOrderError(`order ${order.id} has no lines`);
  }
}

describe('@RmqAcknowledge on a real RabbitMQ broker (Nest RMQ transport, noAck: false)', { timeout: 90_000 }, () => {
  let broker: RabbitMqServer;
  let connection: ChannelModel;
  let channel: Channel;
  const apps = new Set<INestMicroservice>();

  async function consume(queue: string, controller: Type): Promise<INestMicroservice> {
    @Module({ imports: [ResilienceModule.forRoot()], controllers: [controller] })
    class AppModule {}
    const app = await NestFactory.createMicroservice(AppModule, {
      transport: Transport.RMQ,
      options: { urls: [broker.url], queue, noAck: false, queueOptions: { durable: true }, prefetchCount: 1 },
      logger: false,
    });
    app.get(ResilienceEvents).on('dead-letter', (event) => deadLetterEvents.push(event));
    await app.listen();
    apps.add(app);
    return app;
  }

  async function stop(app: INestMicroservice): Promise<void> {
    apps.delete(app);
    await app.close();
  }

  /** Publishes an event as Nest's RMQ client would, through `exchange` (bound to the queue) or the default one. */
  function publish(queue: string, id: string, exchange = ''): void {
    const content = Buffer.from(JSON.stringify({ pattern: 'order', data: { id } }));
    channel.publish(exchange, exchange === '' ? queue : `route.${queue}`, content, { persistent: true });
  }

  /** The messages waiting in `queue` (none being handled: ask after the consumer settled them); 0 when it is absent. */
  async function waiting(queue: string): Promise<number> {
    const probe = await connection.createChannel();
    probe.on('error', () => undefined); // a missing queue closes the channel
    try {
      const { messageCount } = await probe.checkQueue(queue);
      await probe.close();
      return messageCount;
    } catch {
      return 0;
    }
  }

  beforeAll(async () => {
    broker = await RabbitMqServer.start();
    connection = await connect(broker.url);
    channel = await connection.createChannel();
    for (const queue of ['immediate', 'delayed', 'poison', 'fallback', 'validating']) {
      await channel.assertQueue(queue, { durable: true });
    }
    await channel.assertExchange('orders', 'direct', { durable: true });
    await channel.bindQueue('poison', 'orders', 'route.poison');
  }, 300_000);

  afterAll(async () => {
    for (const app of apps) await app.close();
    await connection?.close();
    await broker?.dispose();
  }, 180_000);

  it('acknowledges once a transient failure that succeeds on its third delivery', async () => {
    failures.set('t-1', 2);
    const app = await consume('immediate', ImmediateController);
    publish('immediate', 't-1');
    await vi.waitFor(() => expect(acks.get('t-1')).toBe(3), { timeout: 60_000 });
    // Each failed delivery is acknowledged once its copy (with the count) was re-published; the third succeeds.
    expect(runs.get('t-1')!.map((r) => r.deliveries)).toEqual([0, 1, 2]);
    await stop(app);
    expect(await waiting('immediate')).toBe(0);
    expect(await waiting('immediate.dead-letter')).toBe(0);
    expect(acks.get('t-1')).toBe(3); // the successful delivery was acknowledged exactly once
  });

  it('delivers a delayed retry after its delay, not before', async () => {
    failures.set('d-1', 1);
    const app = await consume('delayed', DelayedController);
    publish('delayed', 'd-1');
    await vi.waitFor(() => expect(runs.get('d-1')).toHaveLength(2), { timeout: 60_000 });
    const [first, second] = runs.get('d-1')!;
    expect(second.deliveries).toBe(1);
    expect(second.at - first.at).toBeGreaterThanOrEqual(DELAY - 50); // the broker's TTL, not a client timer
    await vi.waitFor(() => expect(acks.get('d-1')).toBe(2));
    await stop(app);
    expect(await waiting('delayed')).toBe(0);
    expect(await waiting(`delayed.delay.${DELAY}`)).toBe(0);
  });

  it('dead-letters a poison message after its budget, counted across a consumer restart', async () => {
    failures.set('p-1', Infinity);
    let app = await consume('poison', PoisonController);
    publish('poison', 'p-1', 'orders');
    // First delivery: two in-process @Retry attempts, then it waits in the delay queue; the consumer dies meanwhile.
    await vi.waitFor(() => expect(acks.get('p-1')).toBe(1), { timeout: 60_000 });
    await stop(app);
    expect(runs.get('p-1')).toHaveLength(2);

    app = await consume('poison', PoisonController);
    await vi.waitFor(() => expect(acks.get('p-1')).toBe(3), { timeout: 60_000 });
    // Three deliveries of two attempts each: the count travelled in the message, not in the process.
    expect(runs.get('p-1')!.map((r) => r.deliveries)).toEqual([0, 0, 1, 1, 2, 2]);
    const letter = await channel.get('poison.dead-letter', { noAck: true });
    if (letter === false) throw new Error('no dead letter');
    const { headers } = letter.properties;
    expect(JSON.parse(letter.content.toString())).toEqual({ pattern: 'order', data: { id: 'p-1' } });
    expect(headers).toMatchObject({
      [RMQ_HEADERS.deliveries]: 3,
      [RMQ_HEADERS.errorName]: 'Error',
      [RMQ_HEADERS.errorMessage]: 'order p-1 failed',
      [RMQ_HEADERS.originalExchange]: 'orders',
      [RMQ_HEADERS.originalRoutingKey]: 'route.poison',
      [RMQ_HEADERS.queue]: 'poison',
    });
    // The same `dead-letter` event as the other dead-letter paths, naming the letter the registry lists.
    expect(deadLetterEvents.filter((event) => event.policy === 'poison.dead-letter')).toEqual([
      {
        type: 'dead-letter',
        policy: 'poison.dead-letter',
        target: { className: 'PoisonController', methodName: 'handle' },
        id: headers?.[RMQ_HEADERS.letterId] as string,
        attempts: 3,
        error: expect.objectContaining({ message: 'order p-1 failed' }) as Error,
      },
    ]);

    // After another restart it is not delivered again: a message published later is the next one handled.
    await stop(app);
    app = await consume('poison', PoisonController);
    publish('poison', 'p-2');
    await vi.waitFor(() => expect(runs.get('p-2')?.length).toBeGreaterThan(0), { timeout: 60_000 });
    expect(runs.get('p-1')).toHaveLength(6);
    await stop(app);
    expect(await waiting('poison.dead-letter')).toBe(0);
  });

  it('acknowledges a message a fallback answered, and leaves no copy behind', async () => {
    failures.set('f-1', Infinity);
    const app = await consume('fallback', FallbackController);
    publish('fallback', 'f-1');
    await vi.waitFor(() => expect(acks.get('f-1')).toBe(1), { timeout: 60_000 });
    await stop(app);
    expect(runs.get('f-1')).toHaveLength(1);
    expect(await waiting('fallback')).toBe(0);
  });

  it('dead-letters at once a failure that retryIf refuses', async () => {
    const app = await consume('validating', ValidatingController);
    publish('validating', 'v-1');
    await vi.waitFor(() => expect(acks.get('v-1')).toBe(1), { timeout: 60_000 });
    await stop(app);
    expect(runs.get('v-1')).toHaveLength(1);
    const letter = await channel.get('validating.dead-letter', { noAck: true });
    if (letter === false) throw new Error('no dead letter');
    expect(letter.properties.headers).toMatchObject({
      [RMQ_HEADERS.deliveries]: 1,
      [RMQ_HEADERS.errorName]: 'InvalidOrderError',
      [RMQ_HEADERS.errorMessage]: 'order v-1 has no lines',
    });
    expect(deadLetterEvents.filter((event) => event.policy === 'validating.dead-letter')).toMatchObject([
      { type: 'dead-letter', id: letter.properties.headers?.[RMQ_HEADERS.letterId] as string, attempts: 1 },
    ]);
    expect(await waiting('validating')).toBe(0);
  });
});
