import { Controller, Injectable, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload, RmqContext, Transport } from '@nestjs/microservices';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DeadLetter,
  ResilienceConfigError,
  ResilienceEvents,
  ResilienceModule,
  ResilienceRegistry,
  type ResilienceEvent,
} from '../../lib/index.js';
import { RMQ_HEADERS, RmqAcknowledge, RmqDeadLetterStore } from '../../lib/rabbitmq/index.js';
import { RabbitMqServer } from '../support/rabbitmq-server.js';

/** Runs of the handler per payment id, with the headers each run saw. */
const runs = new Map<string, Record<string, unknown>[]>();
/** Payment ids the handler declines (the bug that a fix will remove). */
const declined = new Set<string>();

@Controller()
class PaymentsConsumer {
  @EventPattern('payment')
  @RmqAcknowledge({ queue: 'payments', maxDeliveries: 2 })
  handle(@Payload() payment: { id: string }, @Ctx() context: unknown): void {
    const message = (context as RmqContext).getMessage() as ConsumeMessage;
    runs.set(payment.id, [...(runs.get(payment.id) ?? []), { ...message.properties.headers }]);
    if (declined.has(payment.id)) throw new Error(`payment ${payment.id} declined`);
  }
}

/** A provider method whose letters `@DeadLetter` writes through the store to a broker queue. */
@Injectable()
class AuditService {
  readonly recorded: string[] = [];
  failing = true;

  @DeadLetter({ name: 'audit.dead-letter' })
  async record(entry: string, level: number): Promise<void> {
    if (this.failing) throw new Error(`audit ${entry} refused`);
    this.recorded.push(`${entry}:${level}`);
  }
}

const DLQ = 'payments.dead-letter';

describe('RmqDeadLetterStore on a real RabbitMQ broker', { timeout: 120_000 }, () => {
  let broker: RabbitMqServer;
  let connection: ChannelModel;
  let channel: Channel;
  const cleanups: (() => Promise<void>)[] = [];

  /** A consumer of `payments` whose module keeps dead letters in the broker, through a connection of its own. */
  async function consumer(): Promise<{ app: INestMicroservice; stop: () => Promise<void> }> {
    const storeConnection = await connect(broker.url);
    @Module({
      imports: [ResilienceModule.forRoot({ deadLetterStore: new RmqDeadLetterStore(storeConnection) })],
      controllers: [PaymentsConsumer],
      providers: [AuditService],
    })
    class AppModule {}
    const app = await NestFactory.createMicroservice(AppModule, {
      transport: Transport.RMQ,
      options: {
        urls: [broker.url],
        queue: 'payments',
        noAck: false,
        queueOptions: { durable: true },
        prefetchCount: 1,
      },
      logger: false,
    });
    await app.listen();
    let stopped = false;
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      await app.close();
      await storeConnection.close().catch(() => undefined);
    };
    cleanups.push(stop);
    return { app, stop };
  }

  function publish(id: string): void {
    const content = Buffer.from(JSON.stringify({ pattern: 'payment', data: { id } }));
    channel.publish('payments-exchange', 'pay', content, { persistent: true, headers: { tenant: 'acme' } });
  }

  async function waiting(queue: string): Promise<number> {
    const probe = await connection.createChannel();
    probe.on('error', () => undefined);
    try {
      const { messageCount } = await probe.checkQueue(queue);
      await probe.close();
      return messageCount;
    } catch {
      return 0;
    }
  }

  /** Publishes a marker and waits until it was handled: any message published before it was handled first. */
  async function drained(marker: string): Promise<void> {
    publish(marker);
    await vi.waitFor(() => expect(runs.get(marker)).toHaveLength(1), { timeout: 60_000 });
  }

  beforeAll(async () => {
    broker = await RabbitMqServer.start();
    connection = await connect(broker.url);
    channel = await connection.createChannel();
    await channel.assertQueue('payments', { durable: true });
    await channel.assertExchange('payments-exchange', 'direct', { durable: true });
    await channel.bindQueue('payments', 'payments-exchange', 'pay');
  }, 300_000);

  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
    await connection?.close();
    await broker?.dispose();
  }, 180_000);

  it('lists a poison message of the broker dead-letter queue, replays it once after the fix, then skips', async () => {
    const { app, stop } = await consumer();
    const registry = app.get(ResilienceRegistry);
    const events: ResilienceEvent[] = [];
    app.get(ResilienceEvents).subscribe((event) => events.push(event));
    // Registered at bootstrap: listable before any letter was written (and after a restart).
    expect(registry.deadLetters.names()).toContain(DLQ);
    expect(await registry.deadLetters.list(DLQ)).toEqual([]);

    declined.add('p-1');
    publish('p-1');
    await vi.waitFor(async () => expect(await waiting(DLQ)).toBe(1), { timeout: 60_000 });
    expect(runs.get('p-1')).toHaveLength(2); // maxDeliveries: 2

    const [letter] = await registry.deadLetters.list(DLQ);
    expect(letter).toMatchObject({
      queue: DLQ,
      pattern: 'payment',
      args: [{ id: 'p-1' }],
      error: { name: 'Error', message: 'payment p-1 declined' },
      attempts: 2,
    });
    expect(letter.deadLetteredAt).toBeGreaterThan(0);
    // Listing does not consume: the letter is still in the broker's queue, under the same id.
    expect(await registry.deadLetters.list(DLQ)).toEqual([letter]);
    expect(await registry.deadLetters.get(DLQ, letter.id)).toEqual(letter);
    expect(await waiting(DLQ)).toBe(1);

    declined.delete('p-1'); // the fix
    expect(await registry.deadLetters.replay(DLQ, letter.id)).toEqual({ id: letter.id, outcome: 'succeeded' });
    expect(await waiting(DLQ)).toBe(0); // gone once the re-publish was confirmed
    await vi.waitFor(() => expect(runs.get('p-1')).toHaveLength(3), { timeout: 60_000 });
    // Through the original exchange and routing key, the application's headers kept, a fresh delivery budget.
    const replayed = runs.get('p-1')![2];
    expect(replayed).toMatchObject({ tenant: 'acme', [RMQ_HEADERS.replayOf]: letter.id });
    expect(replayed[RMQ_HEADERS.deliveries]).toBeUndefined();

    expect(await registry.deadLetters.replay(DLQ, letter.id)).toEqual({ id: letter.id, outcome: 'skipped' });
    expect(await registry.deadLetters.list(DLQ)).toEqual([]);
    await drained('marker-1');
    expect(runs.get('p-1')).toHaveLength(3); // the second replay published nothing
    // The same event as the memory and Redis stores' replays (a skipped replay reports none there either).
    expect(events.filter((event) => event.type === 'dead-letter-replay')).toEqual([
      expect.objectContaining({ policy: DLQ, id: letter.id, outcome: 'succeeded' }),
    ]);

    // A consumer restart (a new store too) neither redelivers the letter nor replays it again.
    await stop();
    const restarted = await consumer();
    const again = restarted.app.get(ResilienceRegistry);
    expect(await again.deadLetters.list(DLQ)).toEqual([]);
    expect(await again.deadLetters.replay(DLQ, letter.id)).toEqual({ id: letter.id, outcome: 'skipped' });
    await drained('marker-2');
    expect(runs.get('p-1')).toHaveLength(3);
    await restarted.stop();
  });

  it('keeps a letter whose replay the broker cannot route, with the failure recorded', async () => {
    const { app, stop } = await consumer();
    const registry = app.get(ResilienceRegistry);
    declined.add('p-2');
    publish('p-2');
    await vi.waitFor(async () => expect(await waiting(DLQ)).toBe(1), { timeout: 60_000 });
    const [letter] = await registry.deadLetters.list(DLQ);
    declined.delete('p-2');

    await channel.unbindQueue('payments', 'payments-exchange', 'pay'); // nothing receives the original routing now
    try {
      const result = await registry.deadLetters.replay(DLQ, letter.id);
      expect(result).toMatchObject({ id: letter.id, outcome: 'failed', error: { message: /unroutable/ } });
    } finally {
      await channel.bindQueue('payments', 'payments-exchange', 'pay');
    }
    const [kept] = await registry.deadLetters.list(DLQ);
    expect(kept).toMatchObject({
      id: letter.id,
      args: [{ id: 'p-2' }],
      error: { message: 'payment p-2 declined' },
      replay: { outcome: 'failed', error: { message: expect.stringMatching(/unroutable/) as unknown } },
    });
    expect(await waiting(DLQ)).toBe(1);
    expect(runs.get('p-2')).toHaveLength(2);

    expect(await registry.deadLetters.replay(DLQ, letter.id)).toEqual({ id: letter.id, outcome: 'succeeded' });
    await vi.waitFor(() => expect(runs.get('p-2')).toHaveLength(3), { timeout: 60_000 });
    expect(await waiting(DLQ)).toBe(0);
    await stop();
  });

  it('gives a letter claimed by a replayer that died back to the queue', async () => {
    declined.add('p-3');
    const { stop } = await consumer();
    publish('p-3');
    await vi.waitFor(async () => expect(await waiting(DLQ)).toBe(1), { timeout: 60_000 });
    await stop();

    const crashedConnection = await connect(broker.url);
    const crashed = new RmqDeadLetterStore(crashedConnection);
    const [letter] = await crashed.list(DLQ);
    expect(await crashed.claim(DLQ, letter.id)).toBe(true);
    const otherConnection = await connect(broker.url);
    const other = new RmqDeadLetterStore(otherConnection);
    try {
      // Held by the claim: invisible to another store, which cannot claim it either.
      expect(await other.list(DLQ)).toEqual([]);
      expect(await other.claim(DLQ, letter.id)).toBe(false);
      await crashedConnection.close(); // the replayer's process is gone: the broker takes the letter back
      await vi.waitFor(async () => expect((await other.list(DLQ)).map((l) => l.id)).toEqual([letter.id]));
      expect(await other.delete(DLQ, letter.id)).toBe(true);
      expect(await other.delete(DLQ, letter.id)).toBe(false);
      expect(await waiting(DLQ)).toBe(0);
    } finally {
      await otherConnection.close();
    }
  });

  it('keeps the letters of @DeadLetter in a broker queue and replays them through the method', async () => {
    const { app, stop } = await consumer();
    const audit = app.get(AuditService);
    await audit.record('login', 3); // dead-lettered: completes without a value
    expect(await waiting('audit.dead-letter')).toBe(1);
    const registry = app.get(ResilienceRegistry);
    const [letter] = await registry.deadLetters.list('audit.dead-letter');
    expect(letter).toMatchObject({
      pattern: 'AuditService.record',
      args: ['login', 3],
      error: { message: 'audit login refused' },
      attempts: 1,
    });
    audit.failing = false;
    expect(await registry.deadLetters.replay('audit.dead-letter', letter.id)).toEqual({
      id: letter.id,
      outcome: 'succeeded',
    });
    expect(audit.recorded).toEqual(['login:3']);
    expect(await waiting('audit.dead-letter')).toBe(0);
    await stop();
  });

  it('refuses a connection that is not one, and bad options, naming them', () => {
    expect(() => new RmqDeadLetterStore({} as never)).toThrow(ResilienceConfigError);
    expect(() => new RmqDeadLetterStore({} as never)).toThrow(/connection/);
    expect(() => new RmqDeadLetterStore(connection, { maxBrowse: 0 })).toThrow(/maxBrowse/);
    expect(() => new RmqDeadLetterStore(connection, { confirmTimeout: -1 })).toThrow(/confirmTimeout/);
    expect(() => new RmqDeadLetterStore(connection, { confirmTimout: 1 } as never)).toThrow(/confirmTimout/);
  });
});
