import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import {
  Controller,
  Injectable,
  Module,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type INestMicroservice,
  type NestInterceptor,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload, RmqContext, Transport } from '@nestjs/microservices';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Idempotent, ResilienceModule } from '../../lib/index.js';
import { RmqAcknowledge } from '../../lib/rabbitmq/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { RabbitMqServer } from '../support/rabbitmq-server.js';
import { RedisServer } from '../support/redis-server.js';

/** Per message id: runs of the handler (its side effect), deliveries seen and acknowledgements sent, per app. */
const effects = new Map<string, number>();
const deliveries: { app: string; id: string }[] = [];
const acks: { app: string; id: string }[] = [];
/** The channel each app's deliveries came on. */
const channels = new Map<string, Channel>();
/** Handlers of these ids wait until the test releases them. */
const gates = new Map<string, Promise<void>>();

const idOf = (message: { content: Buffer }): string =>
  (JSON.parse(message.content.toString()) as { data: { id: string } }).data.id;

/** Outside every method interceptor: sees each delivery, and counts the acknowledgements sent on its channel. */
@Injectable()
class DeliveryRecorder implements NestInterceptor {
  static app = '';
  private readonly app = DeliveryRecorder.app;

  intercept(context: ExecutionContext, next: CallHandler) {
    const rmq = context.switchToRpc().getContext<RmqContext>();
    const message = rmq.getMessage() as ConsumeMessage;
    const channel = rmq.getChannelRef() as Channel & { recorded?: boolean };
    if (channel.recorded !== true) {
      channel.recorded = true;
      const ack = channel.ack.bind(channel);
      channel.ack = (acked, ...rest) => {
        ack(acked, ...rest); // throws on a closed channel: not counted
        acks.push({ app: this.app, id: idOf(acked) });
      };
    }
    channels.set(this.app, channel);
    deliveries.push({ app: this.app, id: idOf(message) });
    return next.handle();
  }
}

@Controller()
@UseInterceptors(DeliveryRecorder)
class LedgerConsumer {
  @EventPattern('entry')
  @RmqAcknowledge({ queue: 'ledger' })
  @Idempotent({ key: (entry: { id: string }) => entry.id })
  async handle(@Payload() entry: { id: string }, @Ctx() _context: unknown): Promise<string> {
    effects.set(entry.id, (effects.get(entry.id) ?? 0) + 1);
    await gates.get(entry.id);
    return `booked ${entry.id}`;
  }
}

@Controller()
class KeylessConsumer {
  @EventPattern('entry')
  @Idempotent()
  handle(@Payload() _entry: unknown): void {}
}

@Controller()
class HttpOptionConsumer {
  @EventPattern('entry')
  @Idempotent({ key: (entry: { id: string }) => entry.id, methods: ['POST'] } as never)
  handle(@Payload() _entry: unknown): void {}
}

const FIXTURE = 'test/fixtures/rmq-idempotent-consumer.cjs';

describe('@Idempotent on RMQ consumers, on a real broker', { timeout: 120_000 }, () => {
  let broker: RabbitMqServer;
  let redisServer: RedisServer;
  let redis: Redis;
  let connection: ChannelModel;
  let channel: Channel;
  const cleanups: (() => Promise<unknown>)[] = [];

  async function waiting(queue: string): Promise<number> {
    const probe = await connection.createChannel();
    const { messageCount } = await probe.checkQueue(queue);
    await probe.close();
    return messageCount;
  }

  function publish(queue: string, pattern: string, id: string): void {
    channel.publish('', queue, Buffer.from(JSON.stringify({ pattern, data: { id } })), { persistent: true });
  }

  /** A consumer process of the fixture; resolves once it consumes. */
  async function consumerProcess(killAtAck: boolean): Promise<{ child: ChildProcess; output: () => string }> {
    const child = spawn(process.execPath, [FIXTURE], {
      env: {
        ...process.env,
        AMQP_URL: broker.url,
        REDIS_URL: redisServer.url,
        QUEUE: 'orders',
        KILL_AT_ACK: killAtAck ? '1' : '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    cleanups.push(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    });
    await vi.waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`the consumer exited: ${output}`);
        expect(output).toContain('ready');
      },
      { timeout: 60_000, interval: 100 },
    );
    return { child, output: () => output };
  }

  async function consumer(name: string, controller: Type, store: RedisStore): Promise<INestMicroservice> {
    @Module({ imports: [ResilienceModule.forRoot({ store })], controllers: [controller] })
    class AppModule {}
    DeliveryRecorder.app = name;
    const app = await NestFactory.createMicroservice(AppModule, {
      transport: Transport.RMQ,
      options: { urls: [broker.url], queue: 'ledger', noAck: false, queueOptions: { durable: true }, prefetchCount: 1 },
      logger: false,
    });
    await app.listen();
    cleanups.push(() => app.close());
    return app;
  }

  beforeAll(async () => {
    [broker, redisServer] = await Promise.all([RabbitMqServer.start(), RedisServer.start()]);
    redis = new Redis(redisServer.url);
    connection = await connect(broker.url);
    channel = await connection.createChannel();
    await channel.assertQueue('orders', { durable: true });
    await channel.assertQueue('ledger', { durable: true });
  }, 300_000);

  afterAll(async () => {
    // An app whose connection the test cut may never finish closing (its connection manager keeps reconnecting):
    // each cleanup gets a bounded wait, so the broker and Redis below are stopped whatever happens.
    for (const cleanup of cleanups.reverse()) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        cleanup().catch(() => undefined),
        new Promise((resolve) => (timer = setTimeout(resolve, 15_000))),
      ]);
      clearTimeout(timer);
    }
    await connection?.close();
    redis?.disconnect();
    await redisServer?.stop();
    await broker?.dispose();
  }, 180_000);

  it('a consumer killed between the side effect and the ack: the redelivery is acknowledged, not re-run', async () => {
    if (!existsSync('dist/lib/rabbitmq/index.js')) throw new Error('run `npm run build` first: the consumer runs dist');
    const doomed = await consumerProcess(true);
    publish('orders', 'order', 'o-1');
    const [, signal] = (await once(doomed.child, 'exit')) as [number | null, NodeJS.Signals | null];
    expect(signal).toBe('SIGKILL'); // it died where it would have acknowledged
    expect(await redis.get('effects:o-1')).toBe('1');

    // The broker redelivers the unacknowledged message to the next consumer, which answers from the stored record.
    const next = await consumerProcess(false);
    await vi.waitFor(() => expect(next.output()).toContain('acked o-1'), { timeout: 60_000 });
    expect(await redis.get('effects:o-1')).toBe('1');
    const exited = once(next.child, 'exit');
    next.child.kill('SIGTERM');
    await exited;
    expect(await waiting('orders')).toBe(0);
    expect(next.output().match(/acked o-1/g)).toHaveLength(1);
  });

  it('a redelivery while the first delivery still runs waits for it instead of running twice', async () => {
    let release!: () => void;
    gates.set('c-1', new Promise<void>((resolve) => (release = resolve)));
    // Two replicas sharing the idempotency records in Redis (each with its own connection, as two processes).
    await consumer('first', LedgerConsumer, new RedisStore({ url: redisServer.url, prefix: 'ledger:' }));
    publish('ledger', 'entry', 'c-1');
    await vi.waitFor(() => expect(effects.get('c-1')).toBe(1), { timeout: 60_000 });
    await consumer('second', LedgerConsumer, new RedisStore({ url: redisServer.url, prefix: 'ledger:' }));

    // The first replica loses its connection mid-handler: the broker redelivers the message to the second.
    const lost = channels.get('first') as unknown as { connection: { stream: { destroy(): void } } };
    lost.connection.stream.destroy();
    await vi.waitFor(() => expect(deliveries).toContainEqual({ app: 'second', id: 'c-1' }), { timeout: 60_000 });
    expect(effects.get('c-1')).toBe(1); // the second waits on the first one's lease

    release();
    await vi.waitFor(() => expect(acks).toContainEqual({ app: 'second', id: 'c-1' }), { timeout: 60_000 });
    expect(effects.get('c-1')).toBe(1);
    // The first replica's own ack went to a dead socket; the broker settled the message with the second's.
    expect(acks.filter((ack) => ack.app === 'second' && ack.id === 'c-1')).toHaveLength(1);
    await vi.waitFor(async () => expect(await waiting('ledger')).toBe(0));
  });

  it('refuses at bootstrap a message handler without key, or with an HTTP-only option', async () => {
    for (const [controller, message] of [
      [KeylessConsumer, /option "key" = undefined .*is required on message handlers/],
      [HttpOptionConsumer, /option "methods" .*applies to HTTP handlers only; a message handler names its message/],
    ] as const) {
      @Module({ imports: [ResilienceModule.forRoot()], controllers: [controller] })
      class AppModule {}
      const app = await NestFactory.createMicroservice(AppModule, {
        transport: Transport.RMQ,
        options: { urls: [broker.url], queue: 'refused', noAck: false },
        logger: false,
      });
      await expect(app.init()).rejects.toThrow(message);
      await app.close().catch(() => undefined);
    }
  });
});
