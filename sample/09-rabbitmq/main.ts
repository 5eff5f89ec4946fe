/**
 * 09-rabbitmq: a consumer whose acknowledgements the library owns, a publisher with an outbox, a poison message.
 *   npm run sample:rabbitmq        (builds, then node dist/sample/09-rabbitmq/main.js)
 * Uses the broker at RABBITMQ_URL, or starts a private `rabbitmq-server` (Debian's package: apt-get install
 * rabbitmq-server) on free loopback ports, which takes a few seconds to boot (more on a busy machine).
 *
 * The publisher emits six orders; the consumer fails order 3 once (redelivered through a delay queue, then handled)
 * and order 6 every time (a poison message: dead-lettered after 3 deliveries). With its own broker, the sample then
 * stops it, emits two more orders (parked in the outbox: the callers are told `parked`), starts it again and
 * watches the outbox drain: each order is handled once.
 */
import 'reflect-metadata';
import { Controller, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload, type RmqContext, Transport } from '@nestjs/microservices';
import { connect } from 'amqplib';
import { ResilienceEvents, ResilienceModule, ResilienceRegistry } from 'nest-resilience';
import { InjectRmqPublisher, RmqAcknowledge, RmqPublisher, RmqPublisherModule } from 'nest-resilience/rabbitmq';
import { RabbitMqServer } from '../../test/support/rabbitmq-server.js';

const QUEUE = 'sample-orders';

let broker: RabbitMqServer | undefined;
let url = process.env.RABBITMQ_URL;
if (url === undefined) {
  console.log('starting a private rabbitmq-server (set RABBITMQ_URL to use yours)...');
  try {
    broker = await RabbitMqServer.start();
  } catch (error) {
    console.error(`could not start rabbitmq-server: ${(error as Error).message}`);
    console.error('install it (apt-get install -y rabbitmq-server) or set RABBITMQ_URL=amqp://user:pass@host:5672');
    process.exit(1);
  }
  url = broker.url;
}

/** Orders handled, by id: a consumer deduplicates on the message id (in an application: @Idempotent, a unique key). */
const handled = new Map<number, string>();
const failures = new Map<number, number>();

@Controller()
class OrdersConsumer {
  @EventPattern('order-placed')
  @RmqAcknowledge({ queue: QUEUE, maxDeliveries: 3, delay: 300 })
  place(@Payload() order: { id: number; poison?: boolean }, @Ctx() context: unknown): void {
    const message = (context as RmqContext).getMessage() as { properties: { messageId: string } };
    const { messageId } = message.properties;
    if (handled.get(order.id) === messageId) return console.log(`order ${order.id}: duplicate copy, acknowledged`);
    const failed = failures.get(order.id) ?? 0;
    if (order.poison === true || (order.id === 3 && failed === 0)) {
      failures.set(order.id, failed + 1);
      console.log(`order ${order.id}: delivery ${failed + 1} failed`);
      throw new Error(order.poison === true ? 'unreadable order' : 'stock service timed out');
    }
    handled.set(order.id, messageId);
    console.log(`order ${order.id} handled`);
  }
}

@Module({ imports: [ResilienceModule.forRoot()], controllers: [OrdersConsumer] })
class ConsumerModule {}

@Injectable()
class Checkout {
  constructor(@InjectRmqPublisher('orders') private readonly orders: RmqPublisher) {}

  async place(id: number, poison = false): Promise<void> {
    const { status } = await this.orders.emit('order-placed', { id, poison }, { messageId: `order-${id}` });
    console.log(`order ${id} published: ${status}`);
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot(),
    RmqPublisherModule.register({
      name: 'orders',
      urls: [url],
      queue: QUEUE,
      retry: { maxAttempts: 2, initialDelay: 50 },
      maxReconnectDelay: 500,
    }),
  ],
  providers: [Checkout],
})
class PublisherModule {}

const consumer = await NestFactory.createMicroservice(ConsumerModule, {
  transport: Transport.RMQ,
  options: { urls: [url], queue: QUEUE, noAck: false, queueOptions: { durable: true }, prefetchCount: 1 },
  logger: false, // Nest's RMQ server logs each reconnection attempt while the broker is down
});
await consumer.listen();
const publisher = await NestFactory.createApplicationContext(PublisherModule, { logger: ['error'] });
const checkout = publisher.get(Checkout);
const outbox = () => publisher.get(ResilienceRegistry).outboxes.get('orders').snapshot();

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 100));
}

for (let id = 1; id <= 5; id++) await checkout.place(id);
await checkout.place(6, true);
await until(() => handled.size === 5 && (failures.get(6) ?? 0) === 3);

const connection = await connect(url);
const channel = await connection.createChannel();
// The dead letter is published once the third delivery failed, as that delivery is settled.
let letter = await channel.get(`${QUEUE}.dead-letter`, { noAck: true });
while (letter === false) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  letter = await channel.get(`${QUEUE}.dead-letter`, { noAck: true });
}
{
  const headers = letter.properties.headers ?? {};
  console.log(
    `dead letter: ${letter.content.toString()} after ${String(headers['x-resilience-deliveries'])} deliveries ` +
      `(${String(headers['x-resilience-error-message'])})`,
  );
}
await connection.close();

if (broker !== undefined) {
  console.log('stopping the broker...');
  await broker.stop();
  await checkout.place(7);
  await checkout.place(8);
  console.log(`outbox depth while the broker is down: ${outbox().depth}`);
  publisher.get(ResilienceEvents).on('outbox-sent', (event) => console.log(`outbox sent ${event.messageId}`));
  console.log('starting the broker again...');
  await broker.restart();
  await until(() => outbox().depth === 0 && handled.size === 7);
}

console.log(`handled ${handled.size} orders once each; order 6 dead-lettered`);
await publisher.close();
await consumer.close();
await broker?.dispose();
