import type { OutboxAppendResult, OutboxEntry, OutboxLimits, OutboxSize, OutboxStore } from './outbox.store.js';

interface Box {
  /** Entries by id, in insertion order (a Map keeps it): the queue itself. */
  readonly entries: Map<string, OutboxEntry>;
  bytes: number;
}

/**
 * The default outbox: in this process's memory, bounded by the publisher's limits. It does not survive a restart
 * (use `RedisOutboxStore` for that) and is drained only by its own process, so it needs no lease.
 */
export class MemoryOutboxStore implements OutboxStore {
  private readonly boxes = new Map<string, Box>();

  append(outbox: string, entries: readonly OutboxEntry[], limits: OutboxLimits): Promise<OutboxAppendResult> {
    const box = this.box(outbox);
    let bytes = 0;
    for (const entry of entries) bytes += entry.bytes;
    const size = { count: box.entries.size, bytes: box.bytes };
    if (box.entries.size + entries.length > limits.maxMessages) {
      return Promise.resolve({ accepted: false, size, limit: 'maxMessages' });
    }
    if (box.bytes + bytes > limits.maxBytes) return Promise.resolve({ accepted: false, size, limit: 'maxBytes' });
    for (const entry of entries) {
      const previous = box.entries.get(entry.id);
      if (previous !== undefined) box.bytes -= previous.bytes;
      box.entries.set(entry.id, entry);
      box.bytes += entry.bytes;
    }
    return Promise.resolve({ accepted: true, size: { count: box.entries.size, bytes: box.bytes } });
  }

  peek(outbox: string, limit: number): Promise<OutboxEntry[]> {
    const found: OutboxEntry[] = [];
    const box = this.boxes.get(outbox);
    if (box !== undefined) {
      for (const entry of box.entries.values()) {
        if (found.length >= limit) break;
        found.push(entry);
      }
    }
    return Promise.resolve(found);
  }

  remove(outbox: string, ids: readonly string[]): Promise<OutboxSize> {
    const box = this.boxes.get(outbox);
    if (box === undefined) return Promise.resolve({ count: 0, bytes: 0 });
    for (const id of ids) {
      const entry = box.entries.get(id);
      if (entry === undefined) continue;
      box.entries.delete(id);
      box.bytes -= entry.bytes;
    }
    const size = { count: box.entries.size, bytes: box.bytes };
    if (box.entries.size === 0) this.boxes.delete(outbox); // per-name state stays bounded
    return Promise.resolve(size);
  }

  size(outbox: string): Promise<OutboxSize> {
    const box = this.boxes.get(outbox);
    return Promise.resolve({ count: box?.entries.size ?? 0, bytes: box?.bytes ?? 0 });
  }

  lease(): Promise<boolean> {
    return Promise.resolve(true);
  }

  release(): Promise<void> {
    return Promise.resolve();
  }

  private box(outbox: string): Box {
    let box = this.boxes.get(outbox);
    if (box === undefined) this.boxes.set(outbox, (box = { entries: new Map(), bytes: 0 }));
    return box;
  }
}
