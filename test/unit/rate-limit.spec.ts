import fc from 'fast-check';
import { firstValueFrom, of, type Observable } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  MemoryRateLimitStore,
  RateLimitExceededError,
  ResilienceConfigError,
  ResilienceEvents,
  type RateLimitOptions,
} from '../../lib/index.js';
import { DEFAULT_RATE_LIMIT_OPTIONS } from '../../lib/core/rate-limit/rate-limit.options.js';
import { RateLimitPolicy } from '../../lib/core/rate-limit/rate-limit.policy.js';
import { RateLimitState } from '../../lib/core/rate-limit/rate-limit.state.js';
import { clientAddressKey } from '../../lib/nest/request/client-address.js';
import { monotonicNow } from '../../lib/core/util/clock.js';
import { validateRateLimitOptions } from '../../lib/core/rate-limit/rate-limit.options.js';
import { OptionsValidator } from '../../lib/core/validation/options.validator.js';
import { resilient } from './policy-harness.js';

const rule = (limit: number, interval: number, burst = limit) => ({ capacity: burst, refillPerMs: limit / interval });

describe('MemoryRateLimitStore (token bucket)', () => {
  it('allows a burst, then refills at the sustained rate', () => {
    let now = 0;
    const store = new MemoryRateLimitStore({}, () => now);
    const bucket = rule(10, 1000, 3); // 10 per second, burst 3
    expect([1, 2, 3, 4].map(() => store.consume('k', bucket, 1, 0).allowed)).toEqual([true, true, true, false]);
    const refused = store.consume('k', bucket, 1, 0);
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 100 });
    now = 100; // one token back
    expect(store.consume('k', bucket, 1, 0)).toMatchObject({ allowed: true, remaining: 0 });
    now = 10_000; // long quiet: back to the burst, never above
    expect(store.consume('k', bucket, 1, 0)).toMatchObject({ allowed: true, remaining: 2, resetMs: 100 });
  });

  it('spends `cost` tokens per call and keeps keys apart', () => {
    const store = new MemoryRateLimitStore({}, () => 0);
    const bucket = rule(10, 1000);
    expect(store.consume('a', bucket, 4, 0)).toMatchObject({ allowed: true, remaining: 6 });
    expect(store.consume('a', bucket, 7, 0)).toMatchObject({ allowed: false, remaining: 6, retryAfterMs: 100 });
    expect(store.consume('b', bucket, 10, 0)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('reserves tokens for a caller that may wait, and makes later callers wait longer', () => {
    const store = new MemoryRateLimitStore({}, () => 0);
    const bucket = rule(1, 100, 1); // one token per 100 ms
    expect(store.consume('k', bucket, 1, 1000)).toMatchObject({ allowed: true, waitMs: 0 });
    expect(store.consume('k', bucket, 1, 1000)).toMatchObject({ allowed: true, waitMs: 100 });
    expect(store.consume('k', bucket, 1, 1000)).toMatchObject({ allowed: true, waitMs: 200 });
    expect(store.consume('k', bucket, 1, 250)).toMatchObject({ allowed: false, retryAfterMs: 300 });
  });

  it('admits at most burst + rate x elapsed over any interval', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 10, max: 5000 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 200 }), cost: fc.integer({ min: 1, max: 3 }) }), {
          maxLength: 300,
        }),
        (limit, interval, burst, calls) => {
          let now = 0;
          const store = new MemoryRateLimitStore({}, () => now);
          const bucket = rule(limit, interval, Math.max(burst, 3));
          const admitted: { at: number; cost: number }[] = [];
          for (const { gap, cost } of calls) {
            now += gap;
            if (store.consume('k', bucket, cost, 0).allowed) admitted.push({ at: now, cost });
          }
          // Every window [from, to] of admitted calls spends no more than the burst plus what refilled meanwhile.
          for (let i = 0; i < admitted.length; i++) {
            let spent = 0;
            for (let j = i; j < admitted.length; j++) {
              spent += admitted[j].cost;
              const elapsed = admitted[j].at - admitted[i].at;
              expect(spent).toBeLessThanOrEqual(bucket.capacity + bucket.refillPerMs * elapsed + 1e-9);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('holds at most maxKeys buckets, evicting the least recently used', () => {
    const store = new MemoryRateLimitStore({ maxKeys: 3 }, () => 0);
    const bucket = rule(1, 60_000);
    for (const key of ['a', 'b', 'c']) store.consume(key, bucket, 1, 0);
    store.consume('a', bucket, 1, 0); // a is now the most recent: b is the oldest
    store.consume('d', bucket, 1, 0);
    expect(store.size).toBe(3);
    expect(store.consume('a', bucket, 1, 0).allowed).toBe(false); // a kept its (empty) bucket
    expect(store.consume('b', bucket, 1, 0).allowed).toBe(true); // b was evicted: a fresh bucket
  });

  it('drops idle buckets once they are full again, without timers', () => {
    let now = 0;
    const store = new MemoryRateLimitStore({}, () => now);
    const bucket = rule(10, 1000);
    for (let i = 0; i < 100; i++) store.consume(`client-${i}`, bucket, 1, 0);
    expect(store.size).toBe(100);
    now = 1000; // every bucket has refilled
    for (let i = 0; i < 200; i++) store.consume('busy', bucket, 0.01, 0);
    expect(store.size).toBe(1);
  });

  it('rejects an invalid maxKeys', () => {
    expect(() => new MemoryRateLimitStore({ maxKeys: 0 })).toThrow(ResilienceConfigError);
    expect(() => new MemoryRateLimitStore({ maxKeys: 0 })).toThrow('"maxKeys" = 0 for policy "MemoryRateLimitStore"');
    expect(() => new MemoryRateLimitStore({ maxkeys: 10 } as never)).toThrow(
      'Unknown store option "maxkeys" for policy "MemoryRateLimitStore" ' +
        '(declared on new MemoryRateLimitStore(...)). Did you mean "maxKeys"?',
    );
  });
});

describe('RateLimitPolicy on providers', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  const limiter = (options: Partial<RateLimitOptions>) =>
    new RateLimitState('quota', { ...DEFAULT_RATE_LIMIT_OPTIONS, ...options }, new MemoryRateLimitStore());

  it('fails at once with RateLimitExceededError carrying the wait', async () => {
    const method = vi.fn(async () => 'sent');
    const { call } = resilient(method, () => [
      new RateLimitPolicy(limiter({ limit: 2, interval: 1000 }), () => 'global'),
    ]);
    await call();
    await call();
    const error = await call().catch((rejection: unknown) => rejection);
    expect(error).toBeInstanceOf(RateLimitExceededError);
    expect(error).toMatchObject({ policy: 'quota', retryAfterMs: 500 });
    expect(method).toHaveBeenCalledTimes(2);
  });

  it.each(['promise', 'observable'] as const)(
    'several limits on a provider (%s): a call refused by one spends nothing of the others',
    async (shape) => {
      const store = new MemoryRateLimitStore();
      const tight = new RateLimitState(
        'tight',
        { ...DEFAULT_RATE_LIMIT_OPTIONS, limit: 1, interval: 60_000, message: 'Quota reached' },
        store,
      );
      const loose = new RateLimitState('loose', { ...DEFAULT_RATE_LIMIT_OPTIONS, limit: 3, interval: 60_000 }, store);
      const method = vi.fn(() => (shape === 'promise' ? Promise.resolve('sent') : of('sent')));
      const { call } = resilient(
        method,
        () => [new RateLimitPolicy(tight, () => 'global', [{ limiter: loose, keyOf: () => 'global' }])],
        shape,
      );
      const run = () =>
        (shape === 'promise' ? (call() as Promise<unknown>) : firstValueFrom(call() as Observable<unknown>)).catch(
          (error: unknown) => error,
        );
      expect(await run()).toBe('sent');
      for (let i = 0; i < 3; i++) {
        expect(await run()).toMatchObject({ policy: 'tight', message: 'Quota reached' });
      }
      // "loose" spent one token only: two left.
      expect(await loose.consume('global', 0)).toMatchObject({ allowed: true, remaining: 1 });
      expect(method).toHaveBeenCalledTimes(1);
    },
  );

  it('waits up to maxWait for a token', async () => {
    const method = vi.fn(async () => Date.now());
    const { call } = resilient(method, () => [
      new RateLimitPolicy(limiter({ limit: 1, interval: 100, maxWait: 250 }), () => 'global'),
    ]);
    await expect(call()).resolves.toBe(0);
    const second = call();
    const third = call();
    const fourth = call().catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(300);
    await expect(second).resolves.toBe(100);
    await expect(third).resolves.toBe(200);
    expect(await fourth).toBeInstanceOf(RateLimitExceededError);
  });

  it('keys buckets by the key function', async () => {
    const { call } = resilient(
      async (tenant: string) => tenant,
      () => [new RateLimitPolicy(limiter({ limit: 1, interval: 1000 }), (invocation) => String(invocation.args[0]))],
    );
    await expect(call('a')).resolves.toBe('a');
    await expect(call('b')).resolves.toBe('b');
    await expect(call('a')).rejects.toBeInstanceOf(RateLimitExceededError);
  });
});

describe('rate-limit-rejected on providers', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  const state = (name: string, limit: number) =>
    new RateLimitState(name, { ...DEFAULT_RATE_LIMIT_OPTIONS, limit, interval: 60_000 }, new MemoryRateLimitStore());
  const settle = (shape: 'promise' | 'observable', result: unknown) =>
    (shape === 'promise' ? (result as Promise<unknown>) : firstValueFrom(result as Observable<unknown>)).catch(
      (error: unknown) => error,
    );

  it.each(['promise', 'observable'] as const)(
    'one event per refused call (%s), naming the limit, target, key and wait; none for admitted calls',
    async (shape) => {
      const quote = (tenant: string) => (shape === 'promise' ? Promise.resolve(tenant) : of(tenant));
      const { call, events } = resilient(
        quote,
        (bus) => [
          new RateLimitPolicy(state('quota', 1), (invocation) => `tenant-${String(invocation.args[0])}`, [], bus),
        ],
        shape,
      );
      expect(await settle(shape, call('a'))).toBe('a');
      expect(await settle(shape, call('b'))).toBe('b');
      expect(await settle(shape, call('a'))).toBeInstanceOf(RateLimitExceededError);
      expect(await settle(shape, call('a'))).toBeInstanceOf(RateLimitExceededError);
      expect(events).toEqual([
        {
          type: 'rate-limit-rejected',
          policy: 'quota',
          target: { className: 'Test', methodName: 'quote' },
          key: 'tenant-a',
          retryAfterMs: 60_000,
        },
        {
          type: 'rate-limit-rejected',
          policy: 'quota',
          target: { className: 'Test', methodName: 'quote' },
          key: 'tenant-a',
          retryAfterMs: 60_000,
        },
      ]);
    },
  );

  it.each(['promise', 'observable'] as const)(
    'several limits (%s): the event names the limit that refused, with its own key',
    async (shape) => {
      const method = vi.fn(() => (shape === 'promise' ? Promise.resolve('sent') : of('sent')));
      const { call, events } = resilient(
        method,
        (bus) => [
          new RateLimitPolicy(
            state('sustained', 5),
            () => 'global',
            [{ limiter: state('per-user', 1), keyOf: () => 'ann' }],
            bus,
          ),
        ],
        shape,
      );
      expect(await settle(shape, call())).toBe('sent');
      expect(await settle(shape, call())).toMatchObject({ policy: 'per-user' });
      expect(events).toEqual([
        expect.objectContaining({ type: 'rate-limit-rejected', policy: 'per-user', key: 'ann' }),
      ]);
    },
  );

  it('costs nothing while nobody listens: the key is computed once per call, refused calls included', async () => {
    const keyOf = vi.fn(() => 'global');
    const bus = new ResilienceEvents();
    const { call } = resilient(
      async () => 'sent',
      () => [new RateLimitPolicy(state('quota', 1), keyOf, [], bus)],
    );
    await call();
    await call().catch(() => undefined);
    expect(keyOf).toHaveBeenCalledTimes(2);
    const seen: unknown[] = [];
    const stop = bus.on('rate-limit-rejected', (event) => seen.push(event.key));
    await call().catch(() => undefined);
    expect(seen).toEqual(['global']);
    stop();
    await call().catch(() => undefined);
    expect(seen).toHaveLength(1);
  });
});

describe('clientAddressKey', () => {
  it('groups IPv6 addresses by /64 and unwraps IPv4-mapped ones', () => {
    expect(clientAddressKey('2001:db8:abcd:12:1::7')).toBe('2001:db8:abcd:12::/64');
    expect(clientAddressKey('2001:0db8:abcd:0012:ffff::1')).toBe('2001:db8:abcd:12::/64');
    expect(clientAddressKey('::1')).toBe('0:0:0:0::/64');
    expect(clientAddressKey('::ffff:10.0.0.7')).toBe('10.0.0.7');
    expect(clientAddressKey('10.0.0.7')).toBe('10.0.0.7');
    expect(clientAddressKey(undefined)).toBe('unknown');
  });

  it('reads IPv4-mapped addresses in hex form as the IPv4 client', () => {
    expect(clientAddressKey('::ffff:cb00:7107')).toBe('203.0.113.7');
    expect(clientAddressKey('::FFFF:CB00:7107')).toBe('203.0.113.7');
    expect(clientAddressKey('0:0:0:0:0:ffff:cb00:7107')).toBe('203.0.113.7');
    expect(clientAddressKey('0:0:0:0:0:ffff:203.0.113.7')).toBe('203.0.113.7');
    // Not mapped: ::cb00:7107 (IPv4-compatible, deprecated) and 64:ff9b::/96 stay IPv6.
    expect(clientAddressKey('::cb00:7107')).toBe('0:0:0:0::/64');
  });

  it('groups IPv6 addresses by the prefix length given', () => {
    expect(clientAddressKey('2001:db8:abcd:12:1::7', 48)).toBe('2001:db8:abcd::/48');
    expect(clientAddressKey('2001:db8:abcd:12:1::7', 56)).toBe('2001:db8:abcd:0::/56');
    expect(clientAddressKey('2001:db8:abcd:12ff:1::7', 56)).toBe('2001:db8:abcd:1200::/56');
    expect(clientAddressKey('2001:db8:abcd:12:1::7', 128)).toBe('2001:db8:abcd:12:1:0:0:7/128');
    expect(clientAddressKey('fe80::1%eth0', 64)).toBe('fe80:0:0:0::/64');
  });
});

describe('a provider call admitted at once takes no decision (MemoryRateLimitStore.take)', () => {
  it('leaves every bucket as consume alone would, waits, refusals and blocks included (model check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 300 }),
        fc.array(
          fc.record({
            gap: fc.integer({ min: 0, max: 150 }),
            cost: fc.integer({ min: 0, max: 3 }),
            maxWaitMs: fc.constantFrom(0, 50, 500),
          }),
          { maxLength: 200 },
        ),
        (limit, blockMs, calls) => {
          let now = 0;
          const fast = new MemoryRateLimitStore({}, () => now);
          const full = new MemoryRateLimitStore({}, () => now);
          const bucket = { ...rule(limit, 1000), blockMs };
          for (const { gap, cost, maxWaitMs } of calls) {
            now += gap;
            const expected = full.consume('k', bucket, cost, maxWaitMs);
            // What RateLimitState.spend does: take first, the full decision only when that fails.
            const taken = fast.take('k', bucket, cost);
            const decision = taken ? undefined : fast.consume('k', bucket, cost, maxWaitMs);
            expect(taken || decision!.allowed).toBe(expected.allowed);
            expect(taken ? 0 : decision!.waitMs).toBe(expected.waitMs);
            if (taken) expect(expected.waitMs).toBe(0);
            else expect(decision).toEqual(expected);
          }
          // Same bucket afterwards: a probe that spends nothing reads the same figures from both.
          expect(fast.consume('k', bucket, 0, 0)).toEqual(full.consume('k', bucket, 0, 0));
        },
      ),
    );
  });

  it("uses a caller's monotonic reading with its default clock only, never with a clock it was given", () => {
    let now = 0;
    const given = new MemoryRateLimitStore({}, () => now);
    const bucket = { ...rule(1, 1000), blockMs: 0 };
    expect(given.take('k', bucket, 1, 1e12)).toBe(true);
    // Refused at the store's own clock (0): the reading handed on, far later, would have refilled the bucket.
    expect(given.take('k', bucket, 1, 2e12)).toBe(false);
    now = 1000;
    expect(given.take('k', bucket, 1, 0)).toBe(true);
  });

  it('follows fake timers installed after it was made (its default clock is read at each call)', () => {
    const store = new MemoryRateLimitStore();
    onTestFinished(() => {
      vi.useRealTimers();
    });
    vi.useFakeTimers({ now: 0 });
    const bucket = { ...rule(1, 60_000), blockMs: 0 };
    expect(store.take('k', bucket, 1, monotonicNow())).toBe(true);
    expect(store.take('k', bucket, 1, monotonicNow())).toBe(false);
    vi.advanceTimersByTime(59_999);
    expect(store.take('k', bucket, 1, monotonicNow())).toBe(false);
    vi.advanceTimersByTime(1);
    expect(store.take('k', bucket, 1)).toBe(true);
    expect(store.consume('k', bucket, 1, 0)).toMatchObject({ allowed: false, retryAfterMs: 60_000 });
  });

  it('spends from the memory store without a decision on the provider path, and still refuses', async () => {
    vi.useFakeTimers({ toFake: ['Date'] }); // the buckets read this clock: no refill between the calls
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const limiter = new RateLimitState(
      'quota',
      { ...DEFAULT_RATE_LIMIT_OPTIONS, limit: 2, interval: 60_000, maxWait: 0 },
      new MemoryRateLimitStore(),
    );
    const first = limiter.spend('k', 0);
    expect(first).toMatchObject({ allowed: true, waitMs: 0 });
    expect(limiter.spend('k', 0)).toBe(first); // one shared answer: nothing made per call
    expect(limiter.spend('k', 0)).toMatchObject({ allowed: false, retryAfterMs: 30_000 });
    expect(limiter.snapshot()).toMatchObject({ allowed: 2, refused: 1 });
    // A header-sending caller (a handler's guard) still gets the full decision.
    expect(await limiter.consume('other', 0)).toMatchObject({ allowed: true, remaining: 1 });
  });
});

describe('several limits spent together (MemoryRateLimitStore.consumeAll)', () => {
  const spend = (key: string, limit: number) => ({ key, rule: rule(limit, 60_000), cost: 1, maxWaitMs: 0 });

  it('spends from every bucket only when all admit', () => {
    const store = new MemoryRateLimitStore({}, () => 0);
    const both = () => store.consumeAll([spend('a', 1), spend('b', 3)]).map((decision) => decision.allowed);
    expect(both()).toEqual([true, true]);
    expect(both()).toEqual([false, true]);
    expect(both()).toEqual([false, true]);
    // "b" spent one token only, for the admitted request.
    expect(store.consume('b', rule(3, 60_000), 1, 0)).toMatchObject({ allowed: true, remaining: 1 });
  });

  it('never admits more than the tightest limit, whatever the order (model check)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 4 }), fc.nat(20), (limits, n) => {
        const store = new MemoryRateLimitStore({}, () => 0);
        const requests = limits.map((limit, index) => spend(`k${index}`, limit));
        let admitted = 0;
        for (let i = 0; i < n; i++) {
          if (store.consumeAll(requests).every((decision) => decision.allowed)) admitted++;
        }
        expect(admitted).toBe(Math.min(n, ...limits));
        // Each bucket spent exactly `admitted` tokens.
        limits.forEach((limit, index) => {
          const left = store.consume(`k${index}`, rule(limit, 60_000), 0, 0).remaining;
          expect(left).toBe(limit - admitted);
        });
      }),
    );
  });
});

describe('blockDuration', () => {
  it('blocks a bucket that refused for blockMs, then starts it full', () => {
    let now = 0;
    const store = new MemoryRateLimitStore({}, () => now);
    const blocking = { ...rule(2, 1000), blockMs: 10_000 };
    expect(store.consume('k', blocking, 1, 0).allowed).toBe(true);
    expect(store.consume('k', blocking, 1, 0).allowed).toBe(true);
    expect(store.consume('k', blocking, 1, 0)).toMatchObject({ allowed: false, retryAfterMs: 10_000 });
    now = 5_000; // two tokens would be back long ago without the block
    expect(store.consume('k', blocking, 1, 0)).toMatchObject({ allowed: false, retryAfterMs: 5_000 });
    now = 10_000;
    expect(store.consume('k', blocking, 1, 0)).toMatchObject({ allowed: true, remaining: 1 });
  });
});

describe('new @RateLimit options are validated', () => {
  const validate = (options: Partial<RateLimitOptions>) =>
    new RateLimitState('api', { ...DEFAULT_RATE_LIMIT_OPTIONS, ...options }, new MemoryRateLimitStore());
  const check = (options: Partial<RateLimitOptions>) => () =>
    validateRateLimitOptions(
      { ...DEFAULT_RATE_LIMIT_OPTIONS, ...options },
      new OptionsValidator('rate limit', 'api', 'Api.get'),
    );

  it('refuses a bad ipv6Prefix, blockDuration, message or skipIf, naming the option and value', () => {
    expect(check({ ipv6Prefix: 129 })).toThrow(/"ipv6Prefix" = 129 .*from 1 to 128/);
    expect(check({ ipv6Prefix: 0 })).toThrow(/"ipv6Prefix" = 0/);
    expect(check({ blockDuration: -1 })).toThrow(/"blockDuration" = -1/);
    expect(check({ message: '' })).toThrow(/"message"/);
    expect(check({ skipIf: true as never })).toThrow(/"skipIf" = true .*must be a function/);
    expect(check({ limit: 'many' as never })).toThrow(/"limit" = "many"/);
    expect(check({ ipv6Prefix: 56, blockDuration: 1000, message: 'Slow down' })).not.toThrow();
  });

  it('checks what per-request limit functions return, per request', () => {
    const limiter = validate({ limit: () => 5 });
    expect(limiter.ruleFor(5, 1000)).toMatchObject({ capacity: 5, refillPerMs: 0.005 });
    expect(() => limiter.ruleFor(0, 1000)).toThrow(ResilienceConfigError);
    expect(() => limiter.ruleFor(Number.NaN, 1000)).toThrow(/"limit" function returned NaN/);
    expect(() => limiter.ruleFor(5, -1)).toThrow(/"interval" function returned -1/);
  });
});

describe('MemoryRateLimitStore under a flood of distinct keys', () => {
  it('keeps one million distinct client keys within maxKeys', () => {
    const store = new MemoryRateLimitStore({ maxKeys: 10_000 }, () => 0);
    const bucket = rule(10, 1000);
    for (let i = 0; i < 1_000_000; i++) store.consume(`203.0.${i >> 8}.${i & 255}`, bucket, 1, 0);
    expect(store.size).toBe(10_000);
  }, 60_000); // a million iterations: slow on a loaded CI machine, and not a timing test
});
