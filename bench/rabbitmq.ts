/**
 * Messages per second through a Nest RMQ consumer (`noAck: false`, prefetch 100) on a private rabbitmq-server this
 * script starts, five consumers of the same handler in one run:
 * - undecorated, acknowledging by hand: the baseline;
 * - a do-nothing Nest interceptor that acknowledges when the handler completes: the floor of any design that settles
 *   messages from an interceptor (what Nest's interceptor machinery costs, with no policy);
 * - `@RmqAcknowledge` alone (the library's acknowledgement, no policy);
 * - `@RmqAcknowledge` + `@Retry` + `@Timeout` (the library settles each message after its policies);
 * - `@RmqAcknowledge` + `@Idempotent({ key: rmqMessageId })` with the memory store (a record per message).
 * Each round fills the queue first, then starts the consumer and times it from its first message to its last; rounds
 * alternate the order of the consumers, median of the rounds. Run: `npm run bench:rabbitmq`. BENCH_MESSAGES
 * (default 20000) sets the messages per round, BENCH_ROUNDS (default 3) the rounds, BENCH_ONLY (a row's queue name,
 * e.g. `bench.decorated`) runs one consumer alone (to profile it: `node --cpu-prof dist/bench/rabbitmq.js`).
 */
import {
  Controller,
  Injectable,
  Module,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload, type RmqContext, Transport } from '@nestjs/microservices';
import { connect } from 'amqplib';
import { tap, type Observable } from 'rxjs';
import { Idempotent, ResilienceModule, Retry, Timeout } from 'nest-resilience';
import { RmqAcknowledge, rmqMessageId } from 'nest-resilience/rabbitmq';
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

/** The floor: a Nest interceptor that does nothing but acknowledge the message once the handler completed. */
@Injectable()
class AcknowledgingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const rmq = context.switchToRpc().getContext<RmqContext>();
    return next
      .handle()
      .pipe(tap({ complete: () => (rmq.getChannelRef() as { ack(message: unknown): void }).ack(rmq.getMessage()) }));
  }
}

@Controller()
class FloorConsumer {
  @EventPattern('tick')
  @UseInterceptors(AcknowledgingInterceptor)
  tick(@Payload() _tick: { n: number }): void {
    count();
  }
}

@Controller()
class AcknowledgedConsumer {
  @EventPattern('tick')
  @RmqAcknowledge({ queue: 'bench.acknowledged' })
  tick(@Payload() _tick: { n: number }): void {
    count();
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

@Controller()
class IdempotentConsumer {
  @EventPattern('tick')
  @RmqAcknowledge({ queue: 'bench.idempotent' })
  @Idempotent({ key: rmqMessageId })
  tick(@Payload() _tick: { n: number }): void {
    count();
  }
}

const allVariants: readonly { name: string; compares: string; queue: string; controller: Type }[] = [
  {
    name: 'undecorated (acknowledges by hand)',
    compares: 'the baseline',
    queue: 'bench.bare',
    controller: BareConsumer,
  },
  {
    name: 'do-nothing interceptor that acknowledges',
    compares: "the floor: Nest's interceptor machinery, no policy",
    queue: 'bench.floor',
    controller: FloorConsumer,
  },
  {
    name: '@RmqAcknowledge',
    compares: "the library's acknowledgement against the floor",
    queue: 'bench.acknowledged',
    controller: AcknowledgedConsumer,
  },
  {
    name: '@RmqAcknowledge + @Retry + @Timeout',
    compares: 'policies around the handler, settled after them',
    queue: 'bench.decorated',
    controller: DecoratedConsumer,
  },
  {
    name: '@RmqAcknowledge + @Idempotent (memory)',
    compares: 'a record per message id (acquire, complete)',
    queue: 'bench.idempotent',
    controller: IdempotentConsumer,
  },
];
const only = process.env.BENCH_ONLY;
const variants = only === undefined ? allVariants : allVariants.filter((variant) => variant.queue === only);
if (variants.length === 0) throw new Error(`BENCH_ONLY=${only}: no consumer reads that queue`);

const broker = await RabbitMqServer.start();
const connection = await connect(broker.url);
const publisher = await connection.createConfirmChannel();

/** Fills `queue` with `messages` persistent events in Nest's format, each with its id, confirmed by the broker. */
let filled = 0;
async function fill(queue: string): Promise<void> {
  await publisher.assertQueue(queue, { durable: true });
  filled++;
  for (let n = 0; n < messages; n++) {
    const content = Buffer.from(JSON.stringify({ pattern: 'tick', data: { n } }));
    // A message id, as a publisher such as RmqPublisher stamps: the key of the @Idempotent consumer.
    const messageId = `${filled}-${n}`;
    if (!publisher.sendToQueue(queue, content, { persistent: true, messageId }))
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

const bare = median(results.get(allVariants[0].name) ?? [Number.NaN]);
const floor = median(results.get(allVariants[1].name) ?? [Number.NaN]);
const rows = variants.map((variant) => {
  const perSecond = median(results.get(variant.name)!);
  return (
    `| ${variant.name} | ${variant.compares} | ${Math.round(perSecond)} | ${(perSecond / bare).toFixed(2)} | ` +
    `${(perSecond / floor).toFixed(2)} |`
  );
});
const report = [
  `rabbitmq-server (Debian) on loopback, Node ${process.version}, Nest RMQ transport (noAck: false, prefetch ` +
    `${PREFETCH}), ${messages} persistent messages per round, median of ${rounds} alternating rounds`,
  '',
  '| consumer | what the row compares | messages/s | of undecorated | of the floor |',
  '| --- | --- | ---: | ---: | ---: |',
  ...rows,
].join('\n');
console.log(report);
if (only === undefined) writeResults('rabbitmq.md', report); // one consumer alone is a profile, not a result
