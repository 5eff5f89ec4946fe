/**
 * A publish could not reach the broker after its retries (or another message of its lane was already waiting): the
 * message was parked in the publisher's outbox, and will be sent when the broker is back. `policy` is the publisher.
 */
export interface OutboxParkedEvent {
  readonly type: 'outbox-parked';
  /** The publisher's name. */
  readonly policy: string;
  /** The message's id (its `messageId` on the wire). */
  readonly messageId: string;
  /** Its lane: `<exchange>/<routingKey>` (an empty exchange is the default one). */
  readonly lane: string;
  /** Why it was parked: the last publish error, or `undefined` when it queued behind parked messages of its lane. */
  readonly error: unknown;
  /** Messages in the outbox after it was added. */
  readonly depth: number;
}

/** A parked message was published and confirmed by the broker, and left the outbox. */
export interface OutboxSentEvent {
  readonly type: 'outbox-sent';
  readonly policy: string;
  readonly messageId: string;
  readonly lane: string;
  /** Messages still in the outbox. */
  readonly depth: number;
}

/** A publish was refused because the outbox was full: the caller got an `RmqPublishError` (code `RMQ_OUTBOX_FULL`). */
export interface OutboxFullEvent {
  readonly type: 'outbox-full';
  readonly policy: string;
  readonly messageId: string;
  readonly lane: string;
  /** The limit that refused it. */
  readonly limit: 'maxMessages' | 'maxBytes';
  /** Messages in the outbox when it was refused. */
  readonly depth: number;
}
