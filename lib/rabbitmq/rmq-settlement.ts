import { randomUUID } from 'node:crypto';
import type { ResolvedRmqAcknowledgeOptions } from './rmq-acknowledge.options.js';
import type { RmqChannel, RmqDelivery, RmqMessage } from './rmq-delivery.js';
import { deliveriesOf, RMQ_HEADERS } from './rmq-headers.js';

/** How a failed delivery was settled. */
export type RmqFailureOutcome = 'retried' | 'delayed' | 'dead-lettered';

/** A settled failure: how, after how many deliveries (this one included), and the dead letter's id if it is one. */
export interface RmqSettledFailure {
  readonly outcome: RmqFailureOutcome;
  readonly deliveries: number;
  /** Its id in `registry.deadLetters` (the `x-resilience-letter-id` header), when `outcome` is `dead-lettered`. */
  readonly letterId?: string;
}

/** Queues asserted on each channel, so a retry asserts its delay queue once, not per message. */
const asserted = new WeakMap<RmqChannel, Set<string>>();

/**
 * Settles a delivery whose handler failed: re-published with its delivery count for another delivery (at once, or
 * through a delay queue), or, after its last delivery or when `retryIf` refuses the error, published to the
 * dead-letter queue with the error, the count and its original routing in headers. The original is acknowledged
 * only after the copy was handed to the same channel: a crash in between redelivers the original (at least once;
 * `@Idempotent` makes the handler see it once).
 */
export async function settleFailure(
  { channel, message }: RmqDelivery,
  error: unknown,
  options: ResolvedRmqAcknowledgeOptions,
): Promise<RmqSettledFailure> {
  const delivery = deliveriesOf(message.properties.headers) + 1; // this one
  const retry = delivery < options.maxDeliveries && (options.retryIf === undefined || options.retryIf(error));
  const headers: Record<string, unknown> = { ...message.properties.headers, [RMQ_HEADERS.deliveries]: delivery };
  headers[RMQ_HEADERS.originalExchange] ??= message.fields.exchange;
  headers[RMQ_HEADERS.originalRoutingKey] ??= message.fields.routingKey;
  if (!retry) {
    // The id `RmqDeadLetterStore` lists, claims and replays the letter by: stable while it waits in the queue.
    const letterId = randomUUID();
    Object.assign(headers, describeFailure(error), {
      [RMQ_HEADERS.queue]: options.queue,
      [RMQ_HEADERS.deadLetteredAt]: Date.now(),
      [RMQ_HEADERS.letterId]: letterId,
    });
    await assertOnce(channel, options.deadLetterQueue, { durable: true });
    republish(channel, message, options.deadLetterQueue, headers);
    channel.ack(message);
    return { outcome: 'dead-lettered', deliveries: delivery, letterId };
  }
  const delay = options.delay(delivery);
  if (delay === 0) {
    republish(channel, message, options.queue, headers);
    channel.ack(message);
    return { outcome: 'retried', deliveries: delivery };
  }
  // One delay queue per delay: a queue's messages expire in order, so a long delay never holds a short one back.
  const delayQueue = `${options.queue}.delay.${delay}`;
  await assertOnce(channel, delayQueue, {
    durable: true,
    arguments: {
      'x-message-ttl': delay,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': options.queue,
    },
  });
  republish(channel, message, delayQueue, headers);
  channel.ack(message);
  return { outcome: 'delayed', deliveries: delivery };
}

/** Publishes a copy of `message` (its properties and content) to `queue` through the default exchange. */
function republish(channel: RmqChannel, message: RmqMessage, queue: string, headers: Record<string, unknown>): void {
  // A per-message expiration would race the delay queue's TTL; the copy is persistent like a durable queue's.
  const { expiration: _expiration, headers: _headers, ...properties } = message.properties;
  channel.publish('', queue, message.content, { ...properties, headers, persistent: true });
}

async function assertOnce(channel: RmqChannel, queue: string, options: Record<string, unknown>): Promise<void> {
  let queues = asserted.get(channel);
  if (queues?.has(queue)) return;
  await channel.assertQueue(queue, options);
  if (queues === undefined) asserted.set(channel, (queues = new Set()));
  queues.add(queue);
}

function describeFailure(error: unknown): Record<string, string> {
  if (!(error instanceof Error))
    return { [RMQ_HEADERS.errorName]: typeof error, [RMQ_HEADERS.errorMessage]: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    [RMQ_HEADERS.errorName]: error.name,
    [RMQ_HEADERS.errorMessage]: error.message,
    ...(typeof code === 'string' ? { [RMQ_HEADERS.errorCode]: code } : {}),
  };
}
