import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryIdempotencyStore } from '../../lib/index.js';
import { storeAnswerLater } from '../../lib/core/idempotency/store-answer.js';

/** A memory store whose `complete` fails (as a Redis restarting does) while `down` is true. */
class OutageStore extends MemoryIdempotencyStore {
  down = true;
  completeCalls = 0;

  override complete(key: string, token: string, response: string, ttlMs: number): Promise<boolean> {
    this.completeCalls++;
    if (this.down) return Promise.reject(new Error('connection refused'));
    return super.complete(key, token, response, ttlMs);
  }
}

describe('storeAnswerLater: an answer whose complete failed', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is stored once the store answers again within the lease: the key replays, never runs again', async () => {
    const store = new OutageStore();
    await store.acquire('k', 'fp', 'token-1', 1000);
    storeAnswerLater(store, 'k', 'token-1', '{"status":201}', 60_000, performance.now() + 1000);
    await vi.advanceTimersByTimeAsync(200);
    expect(await store.get('k')).toMatchObject({ state: 'in-flight' });
    store.down = false;
    await vi.advanceTimersByTimeAsync(500);
    expect(await store.get('k')).toEqual({ state: 'completed', fingerprint: 'fp', response: '{"status":201}' });
    const calls = store.completeCalls;
    await vi.advanceTimersByTimeAsync(5000);
    expect(store.completeCalls).toBe(calls); // stored: no more tries
  });

  it('backs off (25 ms doubling up to 500 ms) and stops when the lease has run out', async () => {
    const store = new OutageStore();
    await store.acquire('k', 'fp', 'token-1', 2000);
    storeAnswerLater(store, 'k', 'token-1', '{}', 60_000, performance.now() + 2000);
    await vi.advanceTimersByTimeAsync(25 + 50 + 100 + 200 + 400);
    expect(store.completeCalls).toBe(5);
    await vi.advanceTimersByTimeAsync(10_000);
    // 775 + 500 + 500 = 1775 ms; the next try would come after the lease's end.
    expect(store.completeCalls).toBe(7);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops when the store says the lease is no longer this token (another request took the key)', async () => {
    const store = new OutageStore();
    await store.acquire('k', 'fp', 'token-1', 1000);
    storeAnswerLater(store, 'k', 'token-1', '{}', 60_000, performance.now() + 1000);
    await vi.advanceTimersByTimeAsync(100);
    await store.release('k', 'token-1');
    await store.acquire('k', 'fp', 'token-2', 1000);
    store.down = false;
    await vi.advanceTimersByTimeAsync(200);
    expect(await store.get('k')).toMatchObject({ state: 'in-flight' }); // token-2's lease, untouched
    const calls = store.completeCalls;
    await vi.advanceTimersByTimeAsync(2000);
    expect(store.completeCalls).toBe(calls);
    expect(vi.getTimerCount()).toBe(0);
  });
});
