import type { LastKnownGoodStore, RememberedAnswer } from '../core/fallback/last-known-good-store.interface.js';
import type { RedisStore } from './redis-store.js';
import { sendWhenReady } from './send-when-ready.js';

/**
 * Last-known-good answers in Redis, through a {@link RedisStore}'s connection, so every replica serves the freshest
 * answer any of them saw. One `SET ... PX maxAge` per successful call (not awaited by the caller) and one `GET` per
 * failure that reaches the step. Entries expire with `maxAge`; their number is bounded by Redis (`maxmemory`), not
 * by `maxEntries` / `maxBytes`, which bound the memory store only. When Redis is down or slower than the store's
 * `commandTimeout`, a lookup answers nothing (the chain moves on) and a write is dropped.
 *
 * @example `ResilienceModule.forRoot({ store, lastKnownGoodStore: new RedisLastKnownGoodStore(store) })`
 */
export class RedisLastKnownGoodStore implements LastKnownGoodStore {
  private readonly prefix: string;

  constructor(
    private readonly store: RedisStore,
    /** Key prefix after the store's own prefix. Default `lkg:`. */
    prefix = 'lkg:',
  ) {
    this.prefix = store.options.prefix + prefix;
  }

  async get(key: string): Promise<RememberedAnswer | undefined> {
    let stored: string | null;
    try {
      const client = this.store.redis;
      stored = await sendWhenReady(client, () => client.get(this.prefix + key), this.store.options.commandTimeout);
    } catch {
      return undefined;
    }
    if (stored === null) return undefined;
    // `storedAt:json`: one string, so that a GET is one round trip and the two never disagree.
    const colon = stored.indexOf(':');
    const storedAt = Number(stored.slice(0, colon));
    return colon > 0 && Number.isFinite(storedAt) ? { storedAt, json: stored.slice(colon + 1) } : undefined;
  }

  async set(key: string, answer: RememberedAnswer, ttlMs: number): Promise<void> {
    try {
      const client = this.store.redis;
      const value = `${answer.storedAt}:${answer.json}`;
      await sendWhenReady(
        client,
        () => client.set(this.prefix + key, value, 'PX', Math.max(1, Math.ceil(ttlMs))),
        this.store.options.commandTimeout,
      );
    } catch {
      // Dropped: the previous answer (if any) stays until it expires.
    }
  }
}
