/**
 * Messages per second through a Nest RMQ consumer (`noAck: false`, prefetch 100) on a private rabbitmq-server this
 * script starts: an undecorated handler that acknowledges by hand, beside the same handler under
 * `@RmqAcknowledge` + `@Retry` + `@Timeout` (the library settles each message). Each round fills the queue first,
 * then starts the consumer and times it from its first message to its last; rounds alternate, median of the rounds.
 * Run: `npm run bench:rabbitmq`. BENCH_MESSAGES (default 20000) sets the messages per round, BENCH_ROUNDS (default 3).
 */
import { Controller, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload, type RmqContext, Transport } from '@nestjs/microservices';
import { connect } from 'amqplib';
import { ResilienceModule, Retry, Timeout } from 'nest-resilience';
import { RmqAcknowledge } from 'nest-resilience/rabbitmq';
import { RabbitMqServer } from '../test/support/rabbitmq-server.js';
import { middleValue as median } from './support/measure.js';
import { writeResults } from './support/results.js';
import { setting } from './support/smoke.js';

const messages = setting('BENCH_MESSAGES', 20_000, 200);
const rounds = setting('BENCH_ROUNDS', 3, 1);
const PREFETCH = 100;

/** What the current round's consumer has seen: the time of its first and last message. */
let seen = 0;
let first = 0;
let last = 0;
function count(): void {
  if (seen++ === 0) first = performance.now();
  last = performance.now();
}

@Controller()
class BareConsumer {
  @EventPattern('tick')
  tick(@Payload() _tick: { n: number }, @Ctx() context: unknown): void {
    const rmq = context as RmqContext;
    count();
    (rmq.getChannelRef() as { ack(message: unknown): void }).ack(rmq.getMessage());
  }
}

@Controller()
class DecoratedConsumer {
  @EventPattern('tick')
  @RmqAcknowledge({ queue: 'bench.decorated' })
  @Retry({ maxAttempts: 2 })
  @Timeout(1000)
  tick(@Payload() _tick: { n: number }): void {
    count();
  }
}

const variants: readonly { name: string; queue: string; controller: Type }[] = [
  { name: 'undecorated (acknowledges by hand)', queue: 'bench.bare', controller: BareConsumer },
  { name: '@RmqAcknowledge + @Retry + @Timeout', queue: 'bench.decorated', controller: DecoratedConsumer },
];

const broker = await RabbitMqServer.start();
const connection = await connect(broker.url);
const publisher = await connection.createConfirmChannel();

/** Fills `queue` with `messages` persistent events in Nest's format, confirmed by the broker. */
async function fill(queue: string): Promise<void> {
  await publisher.assertQueue(queue, { durable: true });
  for (let n = 0; n < messages; n++) {
    const content = Buffer.from(JSON.stringify({ pattern: 'tick', data: { n } }));
    if (!publisher.sendToQueue(queue, content, { persistent: true }))
      await new Promise((r) => publisher.once('drain', r));
  }
  await publisher.waitForConfirms();
}

/** Messages per second of one consumer over a full queue, first message to last. */
async function round(queue: string, controller: Type): Promise<number> {
  await fill(queue);
  seen = 0;
  @Module({ imports: [ResilienceModule.forRoot()], controllers: [controller] })
  class ConsumerModule {}
  const app = await NestFactory.createMicroservice(ConsumerModule, {
    transport: Transport.RMQ,
    options: { urls: [broker.url], queue, noAck: false, queueOptions: { durable: true }, prefetchCount: PREFETCH },
    logger: false,
  });
  await app.listen();
  while (seen < messages) await new Promise((resolve) => setTimeout(resolve, 20));
  const perSecond = ((messages - 1) * 1000) / (last - first);
  await app.close();
  return perSecond;
}

const results = new Map<string, number[]>(variants.map((variant) => [variant.name, []]));
try {
  for (let r = 0; r < rounds; r++) {
    for (const variant of r % 2 === 0 ? variants : [...variants].reverse()) {
      results.get(variant.name)!.push(await round(variant.queue, variant.controller));
    }
  }
} finally {
  await connection.close();
  await broker.dispose();
}

const bare = median(results.get(variants[0].name)!);
const rows = variants.map((variant) => {
  const perSecond = median(results.get(variant.name)!);
  return `| ${variant.name} | ${Math.round(perSecond)} | ${(perSecond / bare).toFixed(2)} |`;
});
const report = [
  `rabbitmq-server (Debian) on loopback, Node ${process.version}, Nest RMQ transport (noAck: false, prefetch ` +
    `${PREFETCH}), ${messages} persistent messages per round, median of ${rounds} alternating rounds`,
  '',
  '| consumer | messages/s | of undecorated |',
  '| --- | ---: | ---: |',
  ...rows,
].join('\n');
console.log(report);
writeResults('rabbitmq.md', report);
