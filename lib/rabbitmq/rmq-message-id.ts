import type { ExecutionContext } from '@nestjs/common';
import { rmqDelivery } from './rmq-delivery.js';

/**
 * The key function for `@Idempotent` on an RMQ consumer whose producer stamps a message id:
 * `@Idempotent({ key: rmqMessageId })` keys each message by its AMQP `messageId` property. `RmqPublisher` stamps one on
 * every message (the caller's `messageId`, else a UUID) and keeps it through every retry and the outbox, so the
 * copies an at-least-once publisher may send (a confirm lost while the broker stopped) share one key, and the
 * consumer processes the message once. A message without a `messageId` (or not from RMQ) gets `undefined`, which
 * `@Idempotent` refuses with an `InvalidKeyError` naming the handler: the message fails rather than going unkeyed.
 */
export function rmqMessageId(_data: unknown, context: ExecutionContext): string {
  return rmqDelivery(context)?.message.properties.messageId as string;
}
