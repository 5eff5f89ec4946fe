import type { ConfirmChannel } from 'amqplib';
import type { RmqOutgoingMessage } from './rmq-outgoing-message.js';

/** Marks a result not in yet (`undefined` means confirmed). */
const PENDING = Symbol('pending');

/**
 * Publishes `messages` in order on `channel` and waits for their confirms (one timer for the batch): `undefined` for
 * each confirmed one, else why not. Without a channel each gets `lastError`; while the broker blocks publishers, an
 * error saying so (nothing is published).
 */
export function publishConfirmed(
  channel: ConfirmChannel | undefined,
  blocked: string | undefined,
  lastError: unknown,
  messages: readonly RmqOutgoingMessage[],
  confirmTimeout: number,
): Promise<unknown[]> {
  if (channel === undefined) return Promise.resolve(messages.map(() => lastError));
  if (blocked !== undefined) {
    const error = new Error(`the broker blocks publishers: ${blocked}`);
    return Promise.resolve(messages.map(() => error));
  }
  return new Promise<unknown[]>((resolve) => {
    const results: unknown[] = new Array<unknown>(messages.length).fill(PENDING);
    let left = messages.length;
    const settle = (index: number, error: unknown) => {
      if (results[index] !== PENDING) return;
      results[index] = error;
      if (--left === 0) {
        clearTimeout(timer);
        resolve(results);
      }
    };
    const timer = setTimeout(() => {
      const error = new Error(`no publisher confirm within ${confirmTimeout} ms`);
      for (let i = 0; i < results.length; i++) settle(i, error);
    }, confirmTimeout);
    for (let i = 0; i < messages.length; i++) {
      const { exchange, routingKey, content, properties } = messages[i];
      try {
        channel.publish(exchange, routingKey, content, properties, (error: unknown) => settle(i, error ?? undefined));
      } catch (error) {
        settle(i, error); // the channel closed under us
      }
    }
  });
}
