import type {
  IdempotencyAcquireResult,
  IdempotencyRecord,
  IdempotencyStore,
} from '../core/idempotency/idempotency-store.interface.js';
import { COMPENSATION_WINDOW_MS, type Compensations } from './compensations.js';
import type { ResolvedRedisStoreOptions } from './redis-store.options.js';
import type { ScriptedClient } from './scripted-client.js';
import { sendWhenReady } from './send-when-ready.js';

/**
 * Idempotency records in Redis, shared by every replica: `acquire`, `complete` and `release` are one atomic script
 * call each (so a request costs one round trip before the handler and one after), one hash per record, each key
 * wrapped in a hash tag so that it stays one slot on Redis Cluster. Errors and timeouts (`commandTimeout`) reject:
 * `@Idempotent`'s `onStoreError` decides (by default a 503, never an unprotected run). Reach it as
 * `redisStore.idempotency`; `ResilienceModule` uses it when `store` is a `RedisStore`.
 *
 * An acquire that failed or timed out never takes effect later: Redis may still run it when it resumes, after the
 * client was answered 503, and the lease it would take would refuse the client's retries until it expired. So the
 * failed acquire is cancelled by its fencing token ({@link Compensations}): the cancel, queued on the connection
 * behind the acquire, deletes the lease that token took, or leaves a tombstone under which the acquire refuses itself.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly clientOf: () => ScriptedClient,
    private readonly options: ResolvedRedisStoreOptions,
    private readonly compensations: Compensations,
  ) {}

  async acquire(key: string, fingerprint: string, token: string, leaseMs: number): Promise<IdempotencyAcquireResult> {
    const recordKey = this.keyOf(key);
    const tombstone = `${recordKey}:cancelled:${token}`; // the record's hash tag: the same slot
    let reply: Awaited<ReturnType<ScriptedClient['nestResilienceIdempotencyAcquire']>>;
    try {
      reply = await this.send((client) =>
        client.nestResilienceIdempotencyAcquire(recordKey, tombstone, fingerprint, token, Math.ceil(leaseMs)),
      );
    } catch (error) {
      // The tombstone outlives any acquire still queued behind a stalled Redis: they run as soon as it resumes.
      const ttl = Math.max(Math.ceil(leaseMs), COMPENSATION_WINDOW_MS);
      this.compensations.run(() =>
        this.send((client) => client.nestResilienceIdempotencyCancel(recordKey, tombstone, token, ttl)),
      );
      throw error;
    }
    const [outcome, storedFingerprint = '', detail] = reply;
    if (outcome === 'acquired') return { outcome: 'acquired' };
    if (outcome === 'cancelled') throw new Error(`idempotency token ${token} was cancelled before its acquire ran`);
    if (outcome === 'in-flight') {
      return { outcome, fingerprint: storedFingerprint, leaseRemainingMs: Math.max(0, Number(detail)) };
    }
    return { outcome: 'completed', fingerprint: storedFingerprint, response: String(detail) };
  }

  async complete(key: string, token: string, response: string, ttlMs: number): Promise<boolean> {
    const stored = await this.send((client) =>
      client.nestResilienceIdempotencyComplete(this.keyOf(key), token, response, Math.ceil(ttlMs)),
    );
    return stored === 1;
  }

  async release(key: string, token: string): Promise<boolean> {
    return (await this.send((client) => client.nestResilienceIdempotencyRelease(this.keyOf(key), token))) === 1;
  }

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const redisKey = this.keyOf(key);
    const [[fingerprint, token, response], leaseRemainingMs] = await this.send((client) =>
      Promise.all([client.hmget(redisKey, 'fp', 'token', 'resp'), client.pttl(redisKey)]),
    );
    if (fingerprint === null) return undefined;
    if (token !== null) return { state: 'in-flight', fingerprint, leaseRemainingMs: Math.max(0, leaseRemainingMs) };
    return { state: 'completed', fingerprint, response: response ?? '' };
  }

  /** `{...}` makes the whole record key the hash tag: a record is one key, on one slot. */
  private keyOf(key: string): string {
    return `${this.options.prefix}idempotency:{${key}}`;
  }

  private send<T>(command: (client: ScriptedClient) => Promise<T>): Promise<T> {
    const client = this.clientOf();
    return sendWhenReady(client, () => command(client), this.options.commandTimeout);
  }
}
