import type {
  IdempotencyAcquireResult,
  IdempotencyRecord,
  IdempotencyStore,
} from '../core/idempotency/idempotency-store.interface.js';
import type { ResolvedRedisStoreOptions } from './redis-store.options.js';
import type { ScriptedClient } from './scripted-client.js';
import { sendWhenReady } from './send-when-ready.js';

/**
 * Idempotency records in Redis, shared by every replica: `acquire`, `complete` and `release` are one atomic script
 * call each (so a request costs one round trip before the handler and one after), one hash per record, each key
 * wrapped in a hash tag so that it stays one slot on Redis Cluster. Errors and timeouts (`commandTimeout`) reject:
 * `@Idempotent`'s `onStoreError` decides (by default a 503, never an unprotected run). Reach it as
 * `redisStore.idempotency`; `ResilienceModule` uses it when `store` is a `RedisStore`.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly clientOf: () => ScriptedClient,
    private readonly options: ResolvedRedisStoreOptions,
  ) {}

  async acquire(key: string, fingerprint: string, token: string, leaseMs: number): Promise<IdempotencyAcquireResult> {
    const [outcome, storedFingerprint = '', detail] = await this.send((client) =>
      client.nestResilienceIdempotencyAcquire(this.keyOf(key), fingerprint, token, Math.ceil(leaseMs)),
    );
    if (outcome === 'acquired') return { outcome: 'acquired' };
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
