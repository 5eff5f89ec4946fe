import type { IdempotencyAcquireResult, IdempotencyRecord, IdempotencyStore } from './idempotency-store.interface.js';
import { OptionsValidator } from '../validation/options.validator.js';
import { IntrusiveList, type ListNode } from '../util/intrusive-list.js';

/** Options of {@link MemoryIdempotencyStore}. */
export interface MemoryIdempotencyStoreOptions {
  /** Records kept at most; the least recently used go first. Default `10_000`. */
  maxEntries?: number;
  /** Bytes of keys, fingerprints and stored answers (UTF-8) kept at most; LRU go first. Default 64 MiB. */
  maxBytes?: number;
}

interface MemoryRecord extends ListNode<MemoryRecord> {
  key: string;
  fingerprint: string;
  /** The fencing token of the lease holder; `undefined` once completed. */
  token: string | undefined;
  response: string | undefined;
  /** Epoch ms: the end of the lease, or of the stored answer's ttl. */
  expiresAt: number;
  bytes: number;
}

/**
 * Idempotency records in this process: right for one replica (several replicas need a shared store such as
 * `RedisStore#idempotency`). Bounded in records and in bytes, since stored bodies can be large: the least recently
 * used records are dropped first (an answer then runs again; a dropped lease lets its owner's `complete` fail, so
 * the answer is sent but not stored). Expiry is read lazily: no timer.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, MemoryRecord>();
  /**
   * Least recently used first. A list rather than the Map's own order: deleting and re-inserting Map entries leaves
   * holes that every iteration from the start walks over, so eviction cost grew with the churn.
   */
  private readonly recency = new IntrusiveList<MemoryRecord>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private bytes = 0;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    const validator = new OptionsValidator('store', 'MemoryIdempotencyStore', 'new MemoryIdempotencyStore(...)');
    validator.knownOptions(options, ['maxEntries', 'maxBytes']);
    this.maxEntries = validator.integerAtLeast('maxEntries', options.maxEntries ?? 10_000, 1);
    this.maxBytes = validator.integerAtLeast('maxBytes', options.maxBytes ?? 64 * 1024 * 1024, 1);
  }

  /** Records held now (expired ones included until they are read or evicted). */
  get size(): number {
    return this.records.size;
  }

  /** Bytes held now. */
  get byteSize(): number {
    return this.bytes;
  }

  acquire(key: string, fingerprint: string, token: string, leaseMs: number): Promise<IdempotencyAcquireResult> {
    const now = Date.now();
    const record = this.live(key, now);
    if (record === undefined) {
      this.put(newRecord(key, fingerprint, token, undefined, now + leaseMs));
      return Promise.resolve(ACQUIRED);
    }
    this.touch(record);
    if (record.token !== undefined) {
      return Promise.resolve({
        outcome: 'in-flight',
        fingerprint: record.fingerprint,
        leaseRemainingMs: record.expiresAt - now,
      });
    }
    return Promise.resolve({ outcome: 'completed', fingerprint: record.fingerprint, response: record.response! });
  }

  complete(key: string, token: string, response: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const record = this.live(key, now);
    if (record === undefined || record.token !== token) return Promise.resolve(false);
    this.remove(record);
    const completed = newRecord(key, record.fingerprint, undefined, response, now + ttlMs);
    this.put(completed);
    return Promise.resolve(this.records.get(key) === completed);
  }

  release(key: string, token: string): Promise<boolean> {
    const record = this.live(key, Date.now());
    if (record === undefined || record.token !== token) return Promise.resolve(false);
    this.remove(record);
    return Promise.resolve(true);
  }

  get(key: string): Promise<IdempotencyRecord | undefined> {
    const now = Date.now();
    const record = this.live(key, now);
    if (record === undefined) return Promise.resolve(undefined);
    if (record.token !== undefined) {
      return Promise.resolve({
        state: 'in-flight',
        fingerprint: record.fingerprint,
        leaseRemainingMs: record.expiresAt - now,
      });
    }
    return Promise.resolve({ state: 'completed', fingerprint: record.fingerprint, response: record.response! });
  }

  /** The record of `key` unless it expired (an expired one is dropped on the way). */
  private live(key: string, now: number): MemoryRecord | undefined {
    const record = this.records.get(key);
    if (record === undefined || record.expiresAt > now) return record;
    this.remove(record);
    return undefined;
  }

  /** Marks the record most recently used. */
  private touch(record: MemoryRecord): void {
    this.recency.remove(record);
    this.recency.append(record);
  }

  private put(record: MemoryRecord): void {
    // A record larger than the whole bound is not kept at all (its answer runs again next time).
    if (record.bytes > this.maxBytes) return;
    this.records.set(record.key, record);
    this.recency.append(record);
    this.bytes += record.bytes;
    while (this.records.size > this.maxEntries || this.bytes > this.maxBytes) this.remove(this.recency.first!);
  }

  private remove(record: MemoryRecord): void {
    if (this.records.get(record.key) !== record) return;
    this.records.delete(record.key);
    this.recency.remove(record);
    this.bytes -= record.bytes;
  }
}

function newRecord(
  key: string,
  fingerprint: string,
  token: string | undefined,
  response: string | undefined,
  expiresAt: number,
): MemoryRecord {
  const bytes = byteLength(key) + byteLength(fingerprint) + (response === undefined ? 0 : byteLength(response));
  return { key, fingerprint, token, response, expiresAt, bytes, older: undefined, newer: undefined };
}

const ACQUIRED: IdempotencyAcquireResult = Object.freeze({ outcome: 'acquired' });

/** UTF-8 length without encoding the string: ASCII (keys, fingerprints, most JSON) counts one byte per character. */
function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
