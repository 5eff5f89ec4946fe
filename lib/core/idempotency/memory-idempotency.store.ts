import type {
  IdempotencyAcquireResult,
  IdempotencyRecord,
  IdempotencyStore,
  ImmediateIdempotencyStore,
} from './idempotency-store.interface.js';
import { OptionsValidator } from '../validation/options.validator.js';
import { IntrusiveList, type ListNode } from '../util/intrusive-list.js';
import { MAX_MEMORY_BYTES, MAX_MEMORY_ENTRIES } from '../validation/size-maxima.js';

/** Options of {@link MemoryIdempotencyStore}. */
export interface MemoryIdempotencyStoreOptions {
  /**
   * Records kept at most; the least recently used completed answers make room, never a live lease (a request still
   * running). At most 1,000,000. Default `10_000`.
   */
  maxEntries?: number;
  /**
   * Bytes of keys, fingerprints and stored answers (UTF-8) kept at most; the least recently used completed answers
   * make room, never a live lease. At most 1 GiB. Default 64 MiB.
   */
  maxBytes?: number;
}

/**
 * `acquire` on a {@link MemoryIdempotencyStore} whose bounds are taken by requests still running: a new key is
 * refused rather than evicting a live lease (which would let its key run twice). Handlers answer it as their
 * `onStoreError` says (by default 503).
 */
export class MemoryIdempotencyStoreFullError extends Error {
  readonly code = 'IDEMPOTENCY_STORE_FULL';

  constructor(maxEntries: number, maxBytes: number) {
    super(
      `MemoryIdempotencyStore is full of requests still running (maxEntries ${maxEntries}, maxBytes ${maxBytes}): ` +
        'a new key is refused rather than evicting one of their leases',
    );
    this.name = 'MemoryIdempotencyStoreFullError';
  }
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
 * used completed answers are dropped first (such a key then runs again). A live lease is never dropped, since its
 * request is still running and a second request with its key would run it twice: when the bounds are all taken by
 * live leases, `acquire` of a new key fails with {@link MemoryIdempotencyStoreFullError} (HTTP 503 by default).
 * Expiry is read lazily: no timer.
 */
export class MemoryIdempotencyStore implements IdempotencyStore, ImmediateIdempotencyStore {
  private readonly records = new Map<string, MemoryRecord>();
  /**
   * Completed answers, least recently used first: the only records eviction takes. A list rather than the Map's own
   * order: deleting and re-inserting Map entries leaves holes that every iteration from the start walks over, so
   * eviction cost grew with the churn.
   */
  private readonly recency = new IntrusiveList<MemoryRecord>();
  /** Leases (requests in flight), oldest first: never evicted, only dropped once expired. */
  private readonly inFlight = new IntrusiveList<MemoryRecord>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private bytes = 0;
  /**
   * Records stay in this process: a short request text may be its own fingerprint. A subclass that writes records
   * elsewhere sets it to false (digests then).
   */
  readonly exactFingerprints: boolean = true;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    const validator = new OptionsValidator('store', 'MemoryIdempotencyStore', 'new MemoryIdempotencyStore(...)');
    validator.knownOptions(options, ['maxEntries', 'maxBytes']);
    this.maxEntries = validator.boundedInteger('maxEntries', options.maxEntries ?? 10_000, 1, MAX_MEMORY_ENTRIES);
    this.maxBytes = validator.boundedInteger('maxBytes', options.maxBytes ?? 64 * 1024 * 1024, 1, MAX_MEMORY_BYTES);
  }

  /** Records held now (expired ones included until they are read or evicted). */
  get size(): number {
    return this.records.size;
  }

  /** Bytes held now. */
  get byteSize(): number {
    return this.bytes;
  }

  /**
   * @internal This store itself, whose `acquireNow` and `completeNow` handlers may call instead of the Promise forms;
   * `undefined` when a subclass overrides `acquire` or `complete` (to observe or change them: they stay the ones
   * called).
   */
  immediate(): ImmediateIdempotencyStore | undefined {
    const own = MemoryIdempotencyStore.prototype;
    return this.acquire === own.acquire && this.complete === own.complete ? this : undefined;
  }

  acquire(key: string, fingerprint: string, token: string, leaseMs: number): Promise<IdempotencyAcquireResult> {
    let result: IdempotencyAcquireResult;
    try {
      result = this.acquireNow(key, fingerprint, token, leaseMs);
    } catch (error) {
      return Promise.reject(error);
    }
    return result === ACQUIRED ? ACQUIRED_NOW : Promise.resolve(result);
  }

  complete(key: string, token: string, response: string, ttlMs: number): Promise<boolean> {
    return this.completeNow(key, token, response, ttlMs) ? TRUE : FALSE;
  }

  /** @internal `acquire`, answered at once; throws {@link MemoryIdempotencyStoreFullError} (see `acquire`). */
  acquireNow(key: string, fingerprint: string, token: string, leaseMs: number): IdempotencyAcquireResult {
    const now = Date.now();
    const record = this.live(key, now);
    if (record === undefined) {
      this.putLease(newLease(key, fingerprint, token, now + leaseMs), now);
      return ACQUIRED;
    }
    this.touch(record);
    if (record.token !== undefined) {
      return { outcome: 'in-flight', fingerprint: record.fingerprint, leaseRemainingMs: record.expiresAt - now };
    }
    return { outcome: 'completed', fingerprint: record.fingerprint, response: record.response! };
  }

  /** @internal `complete`, answered at once. */
  completeNow(key: string, token: string, response: string, ttlMs: number): boolean {
    const now = Date.now();
    const record = this.live(key, now);
    if (record === undefined || record.token !== token) return false;
    // The lease becomes the answer in place: no second record, and only the answer's bytes are new to count.
    const bytes = record.bytes + byteLength(response);
    if (bytes > this.maxBytes) {
      // Larger than the whole bound: not kept at all (its answer runs again next time).
      this.remove(record);
      return false;
    }
    this.inFlight.remove(record);
    record.token = undefined;
    record.response = response;
    record.expiresAt = now + ttlMs;
    this.bytes += bytes - record.bytes;
    record.bytes = bytes;
    this.recency.append(record);
    // Older answers make room; this one goes too only when live leases alone leave it no room (it is the newest).
    this.evict(0, now);
    return this.records.get(key) === record;
  }

  release(key: string, token: string): Promise<boolean> {
    const record = this.live(key, Date.now());
    if (record === undefined || record.token !== token) return FALSE;
    this.remove(record);
    return TRUE;
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

  /** Marks a completed record most recently used (leases have no recency: they are never evicted). */
  private touch(record: MemoryRecord): void {
    if (record.token !== undefined) return;
    this.recency.remove(record);
    this.recency.append(record);
  }

  /** Keeps a new lease, making room from completed answers and expired leases; refuses it when there is none. */
  private putLease(record: MemoryRecord, now: number): void {
    this.evict(record.bytes, now);
    if (this.records.size >= this.maxEntries || this.bytes + record.bytes > this.maxBytes) {
      throw new MemoryIdempotencyStoreFullError(this.maxEntries, this.maxBytes);
    }
    this.records.set(record.key, record);
    this.inFlight.append(record);
    this.bytes += record.bytes;
  }

  /**
   * Makes room for `incoming` more bytes (and one record when it is a lease): drops the least recently used
   * completed answers, then, if live leases still fill the bounds, the leases that expired. Never a live lease.
   */
  private evict(incoming: number, now: number): void {
    const entries = incoming > 0 ? this.maxEntries - 1 : this.maxEntries;
    const over = () => this.records.size > entries || this.bytes + incoming > this.maxBytes;
    while (over() && this.recency.first !== undefined) this.remove(this.recency.first);
    if (!over()) return;
    for (let lease = this.inFlight.first; lease !== undefined && over();) {
      const newer = lease.newer;
      if (lease.expiresAt <= now) this.remove(lease);
      lease = newer;
    }
  }

  /** Drops a record that is in the store: every caller found it through the Map or a list, kept in step. */
  private remove(record: MemoryRecord): void {
    this.records.delete(record.key);
    if (record.token === undefined) this.recency.remove(record);
    else this.inFlight.remove(record);
    this.bytes -= record.bytes;
  }
}

/** A new lease: its answer comes in place on `complete`. */
function newLease(key: string, fingerprint: string, token: string, expiresAt: number): MemoryRecord {
  const bytes = byteLength(key) + byteLength(fingerprint);
  return { key, fingerprint, token, response: undefined, expiresAt, bytes, older: undefined, newer: undefined };
}

const ACQUIRED: IdempotencyAcquireResult = Object.freeze({ outcome: 'acquired' });
/** Settled Promises are immutable: every call can return the same one instead of making its own. */
const ACQUIRED_NOW = Promise.resolve(ACQUIRED);
const TRUE = Promise.resolve(true);
const FALSE = Promise.resolve(false);

/** UTF-8 length without encoding the string (Node's binding beats counting in JavaScript, even for short keys). */
function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
