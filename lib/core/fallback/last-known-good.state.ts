import { NO_ANSWER, StaleAnswer } from './fallback-answer.js';
import type { LastKnownGoodStore, RememberedAnswer } from './last-known-good-store.interface.js';
import type { ResolvedLastKnownGoodOptions } from './last-known-good.options.js';

/** What the registry shows of a last-known-good cache. */
export interface LastKnownGoodSnapshot {
  readonly name: string;
  /** How old an answer may be served, in ms. */
  readonly maxAge: number;
  /** Successful results remembered since start. */
  readonly remembered: number;
  /** Stale answers served in place of a failure since start. */
  readonly served: number;
  /** Failures for which no fresh answer was remembered (the chain moved on). */
  readonly misses: number;
  /** Results that could not be remembered (not JSON-serializable, or no key). */
  readonly skipped: number;
  /** Entries and bytes held, when the store knows (memory); `undefined` for Redis. */
  readonly size: { entries: number; bytes: number } | undefined;
}

/**
 * One named last-known-good cache: remembers successful results per call key and recalls the freshest one within
 * `maxAge`. The store is shared (Redis) or its own (memory); keys are prefixed with the cache's name.
 */
export class LastKnownGoodState {
  private remembered = 0;
  private served = 0;
  private misses = 0;
  private skipped = 0;
  private readonly prefix: string;
  /** When each recently written key was written, to skip rewrites within `refreshInterval` (bounded: maxEntries). */
  private readonly writtenAt = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly options: ResolvedLastKnownGoodOptions,
    private readonly store: LastKnownGoodStore,
  ) {
    this.prefix = `${name}\u0000`;
  }

  /** Remembers `value` under `key`; never throws, never waits (a Redis write goes out in the background). */
  remember(key: string | undefined, value: unknown): void {
    const now = Date.now();
    if (key !== undefined && this.options.refreshInterval > 0) {
      const last = this.writtenAt.get(key);
      if (last !== undefined && now - last < this.options.refreshInterval) return;
    }
    let json: string | undefined;
    try {
      json = key === undefined ? undefined : JSON.stringify(value);
    } catch {
      json = undefined; // cycles, BigInt: such results cannot be snapshotted
    }
    if (json === undefined) {
      this.skipped++;
      return;
    }
    this.remembered++;
    if (this.options.refreshInterval > 0) this.noteWrite(key!, now);
    const written = this.store.set(this.prefix + key!, { json, storedAt: now }, this.options.maxAge);
    if (written !== undefined) written.then(undefined, () => undefined);
  }

  /** The freshest answer for `key` within `maxAge` as a {@link StaleAnswer}, or {@link NO_ANSWER}. */
  recall(key: string | undefined): StaleAnswer | typeof NO_ANSWER | Promise<StaleAnswer | typeof NO_ANSWER> {
    if (key === undefined) return this.miss();
    let found: RememberedAnswer | undefined | Promise<RememberedAnswer | undefined>;
    try {
      found = this.store.get(this.prefix + key);
    } catch {
      return this.miss();
    }
    if (found instanceof Promise) {
      return found.then(
        (answer) => this.answerOf(answer),
        () => this.miss(),
      );
    }
    return this.answerOf(found);
  }

  private noteWrite(key: string, now: number): void {
    this.writtenAt.delete(key); // re-inserted last: the Map's first key is the oldest write
    this.writtenAt.set(key, now);
    if (this.writtenAt.size > this.options.maxEntries) this.writtenAt.delete(this.writtenAt.keys().next().value!);
  }

  snapshot(): LastKnownGoodSnapshot {
    return {
      name: this.name,
      maxAge: this.options.maxAge,
      remembered: this.remembered,
      served: this.served,
      misses: this.misses,
      skipped: this.skipped,
      size: this.store.size?.(),
    };
  }

  private answerOf(answer: RememberedAnswer | undefined): StaleAnswer | typeof NO_ANSWER {
    if (answer === undefined) return this.miss();
    const ageMs = Date.now() - answer.storedAt;
    if (ageMs > this.options.maxAge) return this.miss();
    this.served++;
    return new StaleAnswer(JSON.parse(answer.json), Math.max(0, ageMs));
  }

  private miss(): typeof NO_ANSWER {
    this.misses++;
    return NO_ANSWER;
  }
}
