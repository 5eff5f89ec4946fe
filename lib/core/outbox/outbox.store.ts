/** One message parked in an outbox: sent again, oldest first, when its destination is back. */
export interface OutboxEntry {
  /** Unique per message (the message id it carries on the wire): what a consumer deduplicates on. */
  readonly id: string;
  /** Messages of one lane keep their order (for RabbitMQ: the exchange and the routing key). */
  readonly lane: string;
  /** The serialized message, written and read back as is. */
  readonly body: string;
  /** Size counted against the outbox's `maxBytes` (the message content's bytes). */
  readonly bytes: number;
}

/** How much an outbox may hold. */
export interface OutboxLimits {
  readonly maxMessages: number;
  readonly maxBytes: number;
}

/** What an outbox holds now. */
export interface OutboxSize {
  readonly count: number;
  readonly bytes: number;
}

/** The answer to an append: the entries were all added, or none of them because the outbox is full. */
export type OutboxAppendResult = { readonly accepted: true; readonly size: OutboxSize } | OutboxRefusal;

/** An append refused: adding the entries would exceed a limit. Nothing was written. */
export interface OutboxRefusal {
  readonly accepted: false;
  readonly size: OutboxSize;
  /** The limit that refused it. */
  readonly limit: 'maxMessages' | 'maxBytes';
}

/**
 * Where messages wait while their destination (a broker) cannot take them: `MemoryOutboxStore` in the process by
 * default, `RedisOutboxStore` (`nest-resilience/redis`) to survive restarts and be drained by any replica. Each
 * outbox is named (one per publisher); entries come back in the order they were appended.
 */
export interface OutboxStore {
  /** Appends `entries` in order, all or none: refused (nothing written) when they would exceed `limits`. */
  append(outbox: string, entries: readonly OutboxEntry[], limits: OutboxLimits): Promise<OutboxAppendResult>;
  /** The oldest `limit` entries, oldest first, left in place. */
  peek(outbox: string, limit: number): Promise<OutboxEntry[]>;
  /** Removes the entries with these ids (sent); ids no longer there are ignored. Answers the size after it. */
  remove(outbox: string, ids: readonly string[]): Promise<OutboxSize>;
  /** What the outbox holds now. */
  size(outbox: string): Promise<OutboxSize>;
  /**
   * Takes (or extends) the right to drain `outbox` for `ttlMs` as `holder`: `true` when this holder has it. With
   * several replicas on one shared outbox only one drains at a time, so messages go out once and in order.
   */
  lease(outbox: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the drain lease back if `holder` has it. */
  release(outbox: string, holder: string): Promise<void>;
}
