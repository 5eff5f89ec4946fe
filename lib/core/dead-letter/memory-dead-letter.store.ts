import type { DeadLetter, DeadLetterReplay, DeadLetterStore } from './dead-letter.interface.js';

/** Bounds of a {@link MemoryDeadLetterStore}. */
export interface MemoryDeadLetterStoreOptions {
  /** At most this many letters per queue; beyond it the oldest is dropped. Default `1000`. */
  readonly maxLettersPerQueue?: number;
}

/**
 * Dead letters in this process (lost on restart: use Redis or your broker's queue to keep them). Bounded per queue:
 * beyond `maxLettersPerQueue` the oldest letter is dropped.
 */
export class MemoryDeadLetterStore implements DeadLetterStore {
  private readonly queues = new Map<string, Map<string, DeadLetter>>();
  private readonly claimed = new Set<string>();
  private sequence = 0;
  private readonly maxLetters: number;

  constructor(options: MemoryDeadLetterStoreOptions = {}) {
    this.maxLetters = options.maxLettersPerQueue ?? 1000;
  }

  add(letter: Omit<DeadLetter, 'id'>): Promise<string> {
    const id = `${letter.deadLetteredAt}-${++this.sequence}`;
    let queue = this.queues.get(letter.queue);
    if (queue === undefined) this.queues.set(letter.queue, (queue = new Map<string, DeadLetter>()));
    queue.set(id, { ...letter, id });
    if (queue.size > this.maxLetters) {
      const oldest = queue.keys().next().value!;
      queue.delete(oldest);
      this.claimed.delete(`${letter.queue}\u0000${oldest}`);
    }
    return Promise.resolve(id);
  }

  list(queue: string): Promise<DeadLetter[]> {
    return Promise.resolve([...(this.queues.get(queue)?.values() ?? [])]);
  }

  get(queue: string, id: string): Promise<DeadLetter | undefined> {
    return Promise.resolve(this.queues.get(queue)?.get(id));
  }

  claim(queue: string, id: string): Promise<boolean> {
    const key = `${queue}\u0000${id}`;
    if (this.claimed.has(key) || this.queues.get(queue)?.has(id) !== true) return Promise.resolve(false);
    this.claimed.add(key);
    return Promise.resolve(true);
  }

  recordReplay(queue: string, id: string, replay: DeadLetterReplay): Promise<void> {
    const letters = this.queues.get(queue);
    const letter = letters?.get(id);
    if (letter !== undefined) letters!.set(id, { ...letter, replay });
    return Promise.resolve();
  }

  delete(queue: string, id: string): Promise<boolean> {
    this.claimed.delete(`${queue}\u0000${id}`);
    return Promise.resolve(this.queues.get(queue)?.delete(id) ?? false);
  }
}
