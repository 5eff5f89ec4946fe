import { ResilienceError } from '../core/errors/resilience.error.js';
import type { OutboxEntry } from '../core/outbox/outbox.store.js';

/**
 * A publish the library could neither get confirmed nor park: the outbox is full (`RMQ_OUTBOX_FULL`), its store
 * failed, or the publisher is closed (`RMQ_PUBLISH_FAILED`). The message was not sent and is not kept: the caller
 * decides (fail its own request, try later). Never thrown for a message that was parked.
 */
export class RmqPublishError extends ResilienceError {
  constructor(
    readonly code: 'RMQ_OUTBOX_FULL' | 'RMQ_PUBLISH_FAILED',
    message: string,
    /** The publisher's name. */
    publisher: string,
    /** The message's id. */
    readonly messageId: string,
    options?: ErrorOptions,
  ) {
    super(message, publisher, options);
  }
}

/** @internal The error of a message publisher `publisher` could neither send nor park, saying why. */
export function notSent(
  publisher: string,
  code: 'RMQ_OUTBOX_FULL' | 'RMQ_PUBLISH_FAILED',
  entry: OutboxEntry,
  why: string,
  cause?: unknown,
): RmqPublishError {
  return new RmqPublishError(
    code,
    `RmqPublisher "${publisher}": message ${entry.id} to ${entry.lane} was not sent: ${why}`,
    publisher,
    entry.id,
    cause === undefined ? undefined : { cause },
  );
}
