import type { OutboxSize } from './outbox.store.js';

/** What the registry shows of one outbox (`registry.outboxes.get(name).snapshot()`). */
export interface OutboxSnapshot {
  /** The publisher's name. */
  readonly name: string;
  /** Messages waiting in the outbox, as its store last answered (a shared store counts every replica's). */
  readonly depth: number;
  /** Their bytes, as the store last answered. */
  readonly bytes: number;
  /** Messages this process parked since it started. */
  readonly parked: number;
  /** Parked messages this process sent (confirmed) since it started. */
  readonly sent: number;
  /** Publishes refused because the outbox was full (the caller got the error). */
  readonly refused: number;
  /** True while the publisher holds an open channel to the broker. */
  readonly connected: boolean;
}

/** The counters of one publisher's outbox, kept for the registry and the dashboard. */
export class OutboxState {
  private size: OutboxSize = { count: 0, bytes: 0 };
  private parkedCount = 0;
  private sentCount = 0;
  private refusedCount = 0;
  /** Set by the publisher as its channel opens and closes. */
  connected = false;

  constructor(readonly name: string) {}

  /** @internal The store's latest answer. */
  sized(size: OutboxSize): void {
    this.size = size;
  }

  /** @internal */
  countParked(count: number): void {
    this.parkedCount += count;
  }

  /** @internal */
  countSent(count: number): void {
    this.sentCount += count;
  }

  /** @internal */
  countRefused(): void {
    this.refusedCount++;
  }

  snapshot(): OutboxSnapshot {
    return {
      name: this.name,
      depth: this.size.count,
      bytes: this.size.bytes,
      parked: this.parkedCount,
      sent: this.sentCount,
      refused: this.refusedCount,
      connected: this.connected,
    };
  }
}
