import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nextFencingToken } from '../../lib/core/idempotency/fencing-token.js';
import { parseIdempotencyKey } from '../../lib/core/idempotency/idempotency-key.js';
import {
  MemoryIdempotencyStore,
  MemoryIdempotencyStoreFullError,
} from '../../lib/core/idempotency/memory-idempotency.store.js';
import { IdempotencyRecordKeys, quote } from '../../lib/core/idempotency/record-keys.js';
import {
  canonicalJson,
  MAX_EXACT_FINGERPRINT_LENGTH,
  requestFingerprint,
} from '../../lib/core/idempotency/request-fingerprint.js';
import { serializeAnswer, type StoredAnswer } from '../../lib/nest/handlers/stored-answer.js';

/** Canonical JSON as plainly as it can be written: copy every object with its keys sorted, then stringify. */
function referenceCanonicalJson(value: unknown): string {
  const sortKeys = (input: unknown): unknown => {
    if (typeof input !== 'object' || input === null) return input;
    const json = (input as { toJSON?: () => unknown }).toJSON;
    if (typeof json === 'function') return sortKeys(json.call(input));
    if (Array.isArray(input)) return input.map(sortKeys);
    return Object.fromEntries(
      Object.keys(input)
        .sort()
        .map((key) => [key, sortKeys((input as Record<string, unknown>)[key])]),
    );
  };
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

/** The same JSON value with the keys of every object in another order. */
function shuffled(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((item, index) => shuffled(item, seed + index));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  const rotated = entries.map((_, index) => entries[(index + seed) % entries.length]).reverse();
  return Object.fromEntries(rotated.map(([key, item]) => [key, shuffled(item, seed + 1)]));
}

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
    for (const exact of [false, true]) {
      const base = requestFingerprint('POST', '/p', { a: [1, 2] }, exact);
      expect(requestFingerprint('PATCH', '/p', { a: [1, 2] }, exact)).not.toBe(base);
      expect(requestFingerprint('POST', '/q', { a: [1, 2] }, exact)).not.toBe(base);
      expect(requestFingerprint('POST', '/p', { a: [2, 1] }, exact)).not.toBe(base);
      expect(requestFingerprint('POST', '/p', { a: [1, '2'] }, exact)).not.toBe(base);
    }
  });

  it('writes what sorting every object and stringifying writes, whatever the key order (JSON values)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), (value, seed) => {
        const reference = referenceCanonicalJson(value);
        expect(canonicalJson(value)).toBe(reference);
        expect(canonicalJson(shuffled(value, seed))).toBe(reference);
      }),
      { numRuns: 500 },
    );
  });

  it('writes toJSON results, dates, boxed values and left-out members as sorting always did', () => {
    const values = [
      { when: new Date(0), b: undefined, a: () => 1 },
      { z: { toJSON: () => ({ y: 1, x: 2 }) }, a: [undefined, Symbol('s')] },
      { n: Object(1) as unknown, s: Object('ab') as unknown }, // boxed: written as {} and {"0":"a","1":"b"}
      undefined,
      [new Map([[1, 2]])],
    ];
    for (const value of values) expect(canonicalJson(value)).toBe(referenceCanonicalJson(value));
  });

  it("keeps a body's own __proto__ key as data, in either key order", () => {
    const sorted = JSON.parse('{"__proto__":{"x":1},"b":1}') as unknown;
    const unsorted = JSON.parse('{"b":1,"__proto__":{"x":1}}') as unknown;
    expect(canonicalJson(sorted)).toBe('{"__proto__":{"x":1},"b":1}');
    expect(canonicalJson(unsorted)).toBe('{"__proto__":{"x":1},"b":1}');
    expect(canonicalJson(JSON.parse('{"__proto__":{"x":2},"b":1}'))).not.toBe(canonicalJson(sorted));
  });

  it('is a SHA-256 digest by default; the request text itself when exact and short', () => {
    const digest = requestFingerprint('POST', '/pay', { currency: 'EUR', amount: 42 });
    expect(digest).toMatch(/^[\w-]{43}$/);
    expect(requestFingerprint('POST', '/pay', { currency: 'EUR', amount: 42 }, true)).toBe(
      'POST /pay\n{"amount":42,"currency":"EUR"}',
    );
    const long = { note: 'x'.repeat(MAX_EXACT_FINGERPRINT_LENGTH) };
    expect(requestFingerprint('POST', '/pay', long, true)).toBe(requestFingerprint('POST', '/pay', long));
    expect(requestFingerprint('POST', '/pay', long, true)).toMatch(/^[\w-]{43}$/);
  });
});

describe('idempotency record keys', () => {
  it('are JSON.stringify([policy, method, scope, key]), the format stores already hold', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.constantFrom('POST', 'PATCH'),
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary' }),
        (policy, method, scope, key) => {
          const keys = new IdempotencyRecordKeys(policy);
          expect(keys.of(method, scope, key)).toBe(JSON.stringify([policy, method, scope, key]));
          expect(keys.of(method, scope, key)).toBe(JSON.stringify([policy, method, scope, key])); // prefix reused
        },
      ),
      { numRuns: 500 },
    );
    expect(new IdempotencyRecordKeys('Pay.charge').of('POST', '', 'a"b\\c')).toBe(
      JSON.stringify(['Pay.charge', 'POST', '', 'a"b\\c']),
    );
  });

  it('quote is JSON.stringify of a string', () => {
    for (const text of ['', 'plain-key', 'a"b', 'a\\b', 'tab\there', '\u007f', 'ключ', '\ud800', '\u{1f600}']) {
      expect(quote(text)).toBe(JSON.stringify(text));
    }
  });
});

describe('stored answers', () => {
  it('serialize to the text JSON.stringify gives (stores hold it across versions)', () => {
    const answer = fc.record(
      {
        status: fc.integer({ min: 100, max: 599 }),
        body: fc.option(fc.jsonValue(), { nil: undefined }),
        headers: fc.option(fc.dictionary(fc.constantFrom('content-type', 'location', 'etag'), fc.string()), {
          nil: undefined,
        }),
        error: fc.constantFrom(true as const, undefined),
      },
      { requiredKeys: ['status'] },
    );
    fc.assert(
      fc.property(answer, (value) => {
        expect(serializeAnswer(value as StoredAnswer)).toBe(JSON.stringify(value));
      }),
      { numRuns: 500 },
    );
  });
});

describe('fencing tokens', () => {
  it('never repeat, and carry a random per-process prefix', () => {
    const tokens = Array.from({ length: 10_000 }, () => nextFencingToken());
    expect(new Set(tokens).size).toBe(tokens.length);
    const prefix = tokens[0].slice(0, tokens[0].lastIndexOf(':'));
    expect(prefix).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(tokens.every((token) => token.startsWith(`${prefix}:`))).toBe(true);
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

  it('keeps in-memory fingerprints exact, and counts the bytes of a completed answer exactly once', async () => {
    const store = new MemoryIdempotencyStore({ maxBytes: 1000 });
    expect(store.exactFingerprints).toBe(true);
    await store.acquire('ключ', 'fp', 't', 1000); // 'ключ' is 8 bytes in UTF-8
    expect(store.byteSize).toBe(8 + 2);
    expect(await store.complete('ключ', 't', 'é'.repeat(10), 60_000)).toBe(true);
    expect(store.byteSize).toBe(8 + 2 + 20);
    expect(await store.complete('ключ', 't', 'again', 60_000)).toBe(false); // the lease is gone: nothing counted twice
    expect(store.byteSize).toBe(30);
    await store.acquire('k2', 'fp', 't2', 1000);
    expect(await store.release('k2', 't2')).toBe(true);
    expect(store.byteSize).toBe(30);
  });

  it('drops a lease whose answer alone exceeds the byte bound: complete is false, nothing is held', async () => {
    const store = new MemoryIdempotencyStore({ maxBytes: 100 });
    await store.acquire('k', 'fp', 't', 1000);
    expect(await store.complete('k', 't', 'x'.repeat(100), 60_000)).toBe(false);
    expect(store.size).toBe(0);
    expect(store.byteSize).toBe(0);
    expect(await store.acquire('k', 'fp', 't2', 1000)).toEqual({ outcome: 'acquired' });
  });

  it('completing an answer evicts older answers, never a live lease: then the answer itself is not kept', async () => {
    const store = new MemoryIdempotencyStore({ maxBytes: 100 });
    await store.acquire('old', 'fp', 'to', 1000);
    await store.complete('old', 'to', 'y'.repeat(10), 60_000);
    await store.acquire('a', 'fp', 'ta', 1000);
    await store.acquire('b', 'fp', 'tb', 1000);
    expect(await store.complete('a', 'ta', 'x'.repeat(90), 60_000)).toBe(true); // 93 + 3: the older answer goes
    expect(await store.get('old')).toBeUndefined();
    expect(await store.get('a')).toMatchObject({ state: 'completed', response: 'x'.repeat(90) });
    expect(store.byteSize).toBe(96);
    await store.acquire('c', 'fp', 'tc', 1000); // 99 bytes: fits
    expect(await store.acquire('d', 'fp', 'td', 1000)).toEqual({ outcome: 'acquired' }); // a makes room
    expect(await store.get('a')).toBeUndefined();
    // 98 + the live leases b and c (3 bytes each) exceed the bound: the leases stay, the answer is not kept.
    expect(await store.complete('d', 'td', 'x'.repeat(95), 60_000)).toBe(false);
    expect(await store.get('b')).toMatchObject({ state: 'in-flight' });
    expect(await store.get('c')).toMatchObject({ state: 'in-flight' });
    expect(store.byteSize).toBe(6);
  });

  it('answers at once through acquireNow/completeNow, unless a subclass overrides the Promise forms', async () => {
    const store = new MemoryIdempotencyStore();
    expect(store.immediate()).toBe(store);
    expect(store.acquireNow('k', 'fp', 't', 1000)).toEqual({ outcome: 'acquired' });
    expect(store.acquireNow('k', 'fp', 't2', 1000)).toMatchObject({ outcome: 'in-flight', leaseRemainingMs: 1000 });
    expect(store.completeNow('k', 't2', 'stolen', 5000)).toBe(false);
    expect(store.completeNow('k', 't', 'answer', 5000)).toBe(true);
    expect(await store.acquire('k', 'fp', 't3', 1000)).toMatchObject({ outcome: 'completed', response: 'answer' });

    class Observed extends MemoryIdempotencyStore {
      override acquire(key: string, fingerprint: string, token: string, leaseMs: number) {
        return super.acquire(key, fingerprint, token, leaseMs);
      }
    }
    class ObservedCompletion extends MemoryIdempotencyStore {
      override complete(key: string, token: string, response: string, ttlMs: number) {
        return super.complete(key, token, response, ttlMs);
      }
    }
    expect(new Observed().immediate()).toBeUndefined();
    expect(new ObservedCompletion().immediate()).toBeUndefined();
  });

  it('stays within its entry bound by evicting answers, never a live lease: a new key then fails closed', async () => {
    const store = new MemoryIdempotencyStore({ maxEntries: 3 });
    for (let index = 0; index < 3; index++) await store.acquire(`k${index}`, 'fp', `t${index}`, 1000);
    await expect(store.acquire('k3', 'fp', 't3', 1000)).rejects.toBeInstanceOf(MemoryIdempotencyStoreFullError);
    expect(() => store.acquireNow('k3', 'fp', 't3', 1000)).toThrow(/full of requests still running/);
    expect(store.size).toBe(3);
    for (let index = 0; index < 3; index++) {
      expect(await store.get(`k${index}`)).toMatchObject({ state: 'in-flight' });
    }
    // A completed answer makes room; the leases still running stay.
    expect(await store.complete('k1', 't1', 'answer', 60_000)).toBe(true);
    expect(await store.acquire('k3', 'fp', 't3', 1000)).toEqual({ outcome: 'acquired' });
    expect(await store.get('k1')).toBeUndefined();
    expect(await store.get('k0')).toMatchObject({ state: 'in-flight' });
    // Expired leases make room too.
    vi.advanceTimersByTime(1000);
    expect(await store.acquire('k4', 'fp', 't4', 1000)).toEqual({ outcome: 'acquired' });
    expect(store.size).toBeLessThanOrEqual(3);
  });
});
