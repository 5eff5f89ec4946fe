import type { DeadLetter } from '../dead-letter/dead-letter.interface.js';
import {
  DeadLetterQueue,
  type DeadLetterQueueSnapshot,
  type DeadLetterReplayResult,
} from '../dead-letter/dead-letter.queue.js';
import { NamedPolicies } from './named-policies.js';

/**
 * The dead-letter queues of an application, by name (the `@DeadLetter` name, or `Class.method`):
 * `list(queue)`, `get(queue, id)`, `replay(queue, id | 'all')`, `delete(queue, id)`, `names()`, `snapshots()`.
 */
export class DeadLetterQueues {
  private readonly queues = new NamedPolicies<DeadLetterQueue, DeadLetterQueueSnapshot>('dead-letter queue');

  /** The queue called `name`; throws an `UnknownPolicyError` (HTTP 404) when there is none. */
  queue(name: string): DeadLetterQueue {
    return this.queues.get(name);
  }

  /** True when the application has a queue called `name`. */
  has(name: string): boolean {
    return this.queues.has(name);
  }

  /** The queue names. */
  names(): string[] {
    return this.queues.names();
  }

  /** Counters of every queue (letters written and store errors, by this process). */
  snapshots(): DeadLetterQueueSnapshot[] {
    return this.queues.list();
  }

  /** The letters of `queue`, oldest first. */
  list(queue: string): Promise<DeadLetter[]> {
    return this.queue(queue).list();
  }

  /** One letter of `queue`, or `undefined`. */
  get(queue: string, id: string): Promise<DeadLetter | undefined> {
    return this.queue(queue).get(id);
  }

  /**
   * Replays one letter (or `'all'` not replayed before) through the policies of the method it came from, each at
   * most once: success deletes the letter, failure keeps it with the error recorded.
   */
  replay(queue: string, id: string): Promise<DeadLetterReplayResult>;
  replay(queue: string, id: 'all'): Promise<DeadLetterReplayResult[]>;
  replay(queue: string, id: string): Promise<DeadLetterReplayResult | DeadLetterReplayResult[]> {
    const target = this.queue(queue);
    return id === 'all' ? target.replayAll() : target.replay(id);
  }

  /** Removes a letter; `true` when it existed. */
  delete(queue: string, id: string): Promise<boolean> {
    return this.queue(queue).delete(id);
  }

  /** @internal The queue called `name`, created on first use. */
  obtain(name: string, create: () => DeadLetterQueue): DeadLetterQueue {
    return this.queues.obtain(name, create);
  }
}
