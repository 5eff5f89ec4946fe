import { OptionsValidator } from '../validation/options.validator.js';
import type { DeadLetter, DeadLetterReplay, DeadLetterStore } from './dead-letter.interface.js';
import { validateReplayClaimTtl } from './dead-letter-store.bounds.js';

/** Bounds of a {@link MemoryDeadLetterStore}. */
export interface MemoryDeadLetterStoreOptions {
  /**
   * At most this many letters per queue; beyond it the oldest is dropped. An integer from 1 to 1,000,000 (a
   * numeric string is accepted; `0`, an empty string, `NaN` or a fraction fail with a `ResilienceConfigError`).
   * Default `1000`.
   */
  readonly maxLettersPerQueue?: number;
  /**
   * Milliseconds a replay's claim holds the letter: a replayer that crashed mid-replay lets it go after this, so it
   * can be replayed again. Set it above the longest replay (the method's total timeout). Default `300_000`.
   */
  readonly replayClaimTtl?: number;
}

/** The most letters a memory queue may keep: a million letters of a few KB is already gigabytes. */
export const MAX_MEMORY_DEAD_LETTERS = 1_000_000;

/**
 * Dead letters in this process (lost on restart: use Redis or your broker's queue to keep them). Bounded per queue:
 * beyond `maxLettersPerQueue` the oldest letter is dropped.
 */
export class MemoryDeadLetterStore implements DeadLetterStore {
  private readonly queues = new Map<string, Map<string, DeadLetter>>();
  /** Letters being replayed, by `queue \0 id`: until when (performance.now()) the claim holds. */
  private readonly claims = new Map<string, number>();
  private sequence = 0;
  private readonly maxLetters: number;
  private readonly claimTtl: number;

  constructor(options: MemoryDeadLetterStoreOptions = {}) {
    const validator = new OptionsValidator('store', 'MemoryDeadLetterStore', 'new MemoryDeadLetterStore(...)');
    validator.objectOptions('options', options, '{ maxLettersPerQueue: 1000 }', [
      'maxLettersPerQueue',
      'replayClaimTtl',
    ]);
    this.maxLetters = validator.integerBetween(
      'maxLettersPerQueue',
      options.maxLettersPerQueue ?? 1000,
      1,
      MAX_MEMORY_DEAD_LETTERS,
      'a million letters of a few KB each is already gigabytes in this process (use RedisDeadLetterStore beyond)',
    );
    this.claimTtl = validateReplayClaimTtl(validator, options.replayClaimTtl);
  }

  add(letter: Omit<DeadLetter, 'id'>): Promise<string> {
    const id = `${letter.deadLetteredAt}-${++this.sequence}`;
    let queue = this.queues.get(letter.queue);
    if (queue === undefined) this.queues.set(letter.queue, (queue = new Map<string, DeadLetter>()));
    queue.set(id, { ...letter, id });
    if (queue.size > this.maxLetters) {
      const oldest = queue.keys().next().value!;
      queue.delete(oldest);
      this.claims.delete(`${letter.queue}\u0000${oldest}`);
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
    const now = performance.now();
    if ((this.claims.get(key) ?? -Infinity) > now || this.queues.get(queue)?.has(id) !== true) {
      return Promise.resolve(false);
    }
    this.claims.set(key, now + this.claimTtl);
    return Promise.resolve(true);
  }

  recordReplay(queue: string, id: string, replay: DeadLetterReplay): Promise<void> {
    const letters = this.queues.get(queue);
    const letter = letters?.get(id);
    if (letter !== undefined) letters!.set(id, { ...letter, replay });
    this.claims.delete(`${queue}\u0000${id}`); // the replay ended: the letter may be replayed again
    return Promise.resolve();
  }

  delete(queue: string, id: string): Promise<boolean> {
    this.claims.delete(`${queue}\u0000${id}`);
    return Promise.resolve(this.queues.get(queue)?.delete(id) ?? false);
  }
}
