import { ResilienceError } from '../core/errors/resilience.error.js';

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
