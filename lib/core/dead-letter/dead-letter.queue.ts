import type { ResilienceEvents } from '../events/resilience-events.js';
import type { DeadLetter, DeadLetterError, DeadLetterStore } from './dead-letter.interface.js';

/** The outcome of replaying one letter. */
export interface DeadLetterReplayResult {
  readonly id: string;
  /** `succeeded` (the letter was deleted), `failed` (kept, with the error), `skipped` (being replayed, or gone). */
  readonly outcome: 'succeeded' | 'failed' | 'skipped';
  readonly error?: DeadLetterError;
}

/** What the registry shows of a dead-letter queue. */
export interface DeadLetterQueueSnapshot {
  readonly name: string;
  /** Letters written by this process since start. */
  readonly deadLettered: number;
  /** Letters this process could not write (the handler failed instead). */
  readonly storeErrors: number;
}

/** Runs a letter again through the policies of the method it came from (set at bootstrap). */
export type DeadLetterReplayer = (letter: DeadLetter) => Promise<unknown>;

/**
 * One dead-letter queue: writes letters, lists them, replays them (each at most once, the outcome recorded)
 * through the policies of the method they came from, deletes them.
 */
export class DeadLetterQueue {
  /** @internal */
  deadLettered = 0;
  /** @internal */
  storeErrors = 0;
  private replayer: DeadLetterReplayer | undefined;

  constructor(
    readonly name: string,
    private readonly store: DeadLetterStore,
    private readonly events: ResilienceEvents,
  ) {}

  /** @internal Where replays go: the first method using the queue. */
  replayWith(replayer: DeadLetterReplayer): void {
    this.replayer ??= replayer;
  }

  /** @internal Writes a letter; rejects when the store cannot (the caller then fails as before). */
  add(letter: Omit<DeadLetter, 'id'>): Promise<string> {
    return this.store.add(letter).then(
      (id) => {
        this.deadLettered++;
        return id;
      },
      (error: unknown) => {
        this.storeErrors++;
        throw error;
      },
    );
  }

  /** The letters, oldest first. */
  list(): Promise<DeadLetter[]> {
    return this.store.list(this.name);
  }

  /** One letter, or `undefined`. */
  get(id: string): Promise<DeadLetter | undefined> {
    return this.store.get(this.name, id);
  }

  /** Removes a letter; `true` when it existed. */
  delete(id: string): Promise<boolean> {
    return this.store.delete(this.name, id);
  }

  /**
   * Replays one letter through the method's policies, one replay at a time (a replay while another runs, here or on
   * another replica, is `skipped`). Success deletes the letter; failure keeps it with the outcome recorded, and it
   * may be replayed again. A replayer that crashed mid-replay holds the letter until its claim expires (the store's
   * `replayClaimTtl`).
   */
  async replay(id: string): Promise<DeadLetterReplayResult> {
    const replayer = this.replayer;
    if (replayer === undefined) throw new Error(`dead-letter queue "${this.name}" has no method to replay into`);
    if (!(await this.store.claim(this.name, id))) return { id, outcome: 'skipped' };
    const letter = await this.store.get(this.name, id);
    if (letter === undefined) return { id, outcome: 'skipped' };
    let result: DeadLetterReplayResult;
    try {
      await replayer(letter);
      await this.store.delete(this.name, id);
      result = { id, outcome: 'succeeded' };
    } catch (error) {
      const described = describeError(error);
      await this.store.recordReplay(this.name, id, { at: Date.now(), outcome: 'failed', error: described });
      result = { id, outcome: 'failed', error: described };
    }
    if (this.events.observed) {
      this.events.emit({ type: 'dead-letter-replay', policy: this.name, id, outcome: result.outcome });
    }
    return result;
  }

  /**
   * Replays every letter of the queue, one after the other (oldest first): those never replayed and those whose
   * last replay failed; a letter another replica is replaying is `skipped`.
   */
  async replayAll(): Promise<DeadLetterReplayResult[]> {
    const results: DeadLetterReplayResult[] = [];
    for (const letter of await this.list()) results.push(await this.replay(letter.id));
    return results;
  }

  snapshot(): DeadLetterQueueSnapshot {
    return { name: this.name, deadLettered: this.deadLettered, storeErrors: this.storeErrors };
  }
}

/** An error as a letter keeps it: name, message, and `code` when it has one. */
export function describeError(error: unknown): DeadLetterError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: typeof error, message: String(error) };
}
