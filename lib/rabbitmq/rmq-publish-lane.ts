import type { OutboxEntry } from '../core/outbox/outbox.store.js';
import type { RmqOutgoingMessage } from './rmq-outgoing-message.js';
import type { RmqPublishResult } from './rmq-publisher.options.js';

/** A message on its way: what it is, its outbox entry, and its caller's Promise. */
export interface Pending {
  readonly message: RmqOutgoingMessage;
  readonly entry: OutboxEntry;
  readonly resolve: (result: RmqPublishResult) => void;
  readonly reject: (error: unknown) => void;
}

/** The messages of one exchange and routing key: sent in order, retried together, parked together. */
export interface Lane {
  readonly queue: Pending[];
  running: boolean;
  /** Messages of this lane this process parked and that are not sent yet: new ones queue behind them. */
  parked: number;
}
