import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseIdempotencyKey } from '../../lib/core/idempotency/idempotency-key.js';
import { MemoryIdempotencyStore } from '../../lib/core/idempotency/memory-idempotency.store.js';
import { canonicalJson, requestFingerprint } from '../../lib/core/idempotency/request-fingerprint.js';

describe('parseIdempotencyKey', () => {
  it.each([
    ['a bare token', 'order-1:abc/x*', 'order-1:abc/x*'],
    ['a UUID', '8e03978e-40d5-43e8-bc93-6894a57f9324', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['a quoted string, unescaped', '"a\\"b\\\\c"', 'a"b\\c'],
    ['255 characters', 'k'.repeat(255), 'k'.repeat(255)],
  ])('accepts %s', (_name, header, key) => {
    expect(parseIdempotencyKey(header)).toBe(key);
  });

  it.each([
    ['empty', ''],
    ['an empty quoted string', '""'],
    ['256 characters', 'k'.repeat(256)],
    ['a space', 'a b'],
    ['a quoted space', '"a b"'],
    ['a list', 'a,b'],
    ['a bad escape', '"a\\nb"'],
    ['a control character', 'a\tb'],
    ['non-ASCII', 'ключ'],
  ])('refuses %s', (_name, header) => {
    expect(parseIdempotencyKey(header)).toBeUndefined();
  });
});

describe('request fingerprint', () => {
  it('does not depend on the order of keys, at any depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 1, x: 2 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { x: 2, y: 1 }] }, b: 1 }),
    );
    expect(requestFingerprint('POST', '/p', { a: 1, b: 2 })).toBe(requestFingerprint('POST', '/p', { b: 2, a: 1 }));
  });

  it('differs by method, path, array order and values', () => {
    const base = requestFingerprint('POST', '/p', { a: [1, 2] });
    expect(requestFingerprint('PATCH', '/p', { a: [1, 2] })).not.toBe(base);
    expect(requestFingerprint('POST', '/q', { a: [1, 2] })).not.toBe(base);
    expect(requestFingerprint('POST', '/p', { a: [2, 1] })).not.toBe(base);
    expect(requestFingerprint('POST', '/p', { a: [1, '2'] })).not.toBe(base);
  });
});

describe('MemoryIdempotencyStore', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('leases a key, reports it in flight, completes it with its fencing token, replays it until the ttl', async () => {
    const store = new MemoryIdempotencyStore();
    expect(await store.acquire('k', 'fp', 't1', 1000)).toEqual({ outcome: 'acquired' });
    expect(await store.acquire('k', 'fp', 't2', 1000)).toMatchObject({ outcome: 'in-flight', leaseRemainingMs: 1000 });
    expect(await store.complete('k', 't1', 'answer', 5000)).toBe(true);
    expect(await store.acquire('k', 'fp', 't3', 1000)).toEqual({
      outcome: 'completed',
      fingerprint: 'fp',
      response: 'answer',
    });
    vi.advanceTimersByTime(4999);
    expect(await store.get('k')).toMatchObject({ state: 'completed' });
    vi.advanceTimersByTime(1);
    expect(await store.get('k')).toBeUndefined();
    expect(await store.acquire('k', 'fp', 't4', 1000)).toEqual({ outcome: 'acquired' });
  });

  it("frees a crashed holder's key when its lease ends; a late finisher cannot overwrite the new record", async () => {
    const store = new MemoryIdempotencyStore();
    await store.acquire('k', 'fp', 'crashed', 1000);
    vi.advanceTimersByTime(1000);
    expect(await store.acquire('k', 'fp', 'second', 1000)).toEqual({ outcome: 'acquired' });
    expect(await store.complete('k', 'crashed', 'late', 5000)).toBe(false);
    expect(await store.release('k', 'crashed')).toBe(false);
    expect(await store.get('k')).toMatchObject({ state: 'in-flight' });
    expect(await store.complete('k', 'second', 'fresh', 5000)).toBe(true);
    expect(await store.get('k')).toMatchObject({ response: 'fresh' });
  });

  it('release lets the next request run', async () => {
    const store = new MemoryIdempotencyStore();
    await store.acquire('k', 'fp', 't1', 1000);
    expect(await store.release('k', 't1')).toBe(true);
    expect(await store.acquire('k', 'fp', 't2', 1000)).toEqual({ outcome: 'acquired' });
  });

  it('stays within its byte bound with large bodies, dropping the least recently used first', async () => {
    const store = new MemoryIdempotencyStore({ maxBytes: 100_000 });
    const body = 'x'.repeat(10_000);
    for (let index = 0; index < 50; index++) {
      await store.acquire(`k${index}`, 'fp', 't', 1000);
      await store.acquire('k0', 'fp', 't', 1000); // k0 stays recently used
      await store.complete(`k${index}`, 't', body, 60_000);
      expect(store.byteSize).toBeLessThanOrEqual(100_000);
    }
    expect(store.size).toBeLessThan(11);
    expect(await store.get('k0')).toMatchObject({ state: 'completed' });
    expect(await store.get('k1')).toBeUndefined();
    expect(await store.get('k49')).toMatchObject({ state: 'completed' });
  });

  it('stays within its entry bound', async () => {
    const store = new MemoryIdempotencyStore({ maxEntries: 3 });
    for (let index = 0; index < 10; index++) await store.acquire(`k${index}`, 'fp', 't', 1000);
    expect(store.size).toBe(3);
  });
});
