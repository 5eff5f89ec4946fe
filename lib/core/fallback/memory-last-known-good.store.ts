import type { LastKnownGoodStore, RememberedAnswer } from './last-known-good-store.interface.js';

/** Bounds of a {@link MemoryLastKnownGoodStore}. */
export interface MemoryLastKnownGoodStoreOptions {
  /** At most this many keys; the least recently used goes first. */
  readonly maxEntries: number;
  /** At most this many bytes of keys and JSON (UTF-16, 2 bytes a character); the least recently used goes first. */
  readonly maxBytes: number;
}

/**
 * Fixed cost of one entry beyond its key and JSON: the Map slots, the entry object, the prefixed key and the
 * refresh bookkeeping (about 260 bytes for a small result on Node 20: `npm run bench:memory`).
 */
const ENTRY_OVERHEAD_BYTES = 240;

/**
 * Last-known-good answers in this process: an LRU bounded in entries and bytes. A `Map` keeps insertion order, so
 * re-inserting on use makes its first key the least recently used one; eviction is O(1).
 */
export class MemoryLastKnownGoodStore implements LastKnownGoodStore {
  private readonly entries = new Map<string, RememberedAnswer>();
  private bytes = 0;

  constructor(private readonly options: MemoryLastKnownGoodStoreOptions) {}

  get(key: string): RememberedAnswer | undefined {
    const answer = this.entries.get(key);
    if (answer === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, answer);
    return answer;
  }

  set(key: string, answer: RememberedAnswer): void {
    const size = bytesOf(key, answer);
    const previous = this.entries.get(key);
    if (previous !== undefined) {
      this.entries.delete(key);
      this.bytes -= bytesOf(key, previous);
    }
    // An answer larger than the whole budget is not remembered: it would evict everything and still not fit.
    if (size > this.options.maxBytes) return;
    this.entries.set(key, answer);
    this.bytes += size;
    while (this.entries.size > this.options.maxEntries || this.bytes > this.options.maxBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.bytes -= bytesOf(oldest, this.entries.get(oldest)!);
      this.entries.delete(oldest);
    }
  }

  size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

function bytesOf(key: string, answer: RememberedAnswer): number {
  return (key.length + answer.json.length) * 2 + ENTRY_OVERHEAD_BYTES;
}
