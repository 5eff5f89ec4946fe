import { Controller, HttpException, Injectable, Module, Post, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import {
  getIdempotencyKey,
  Hedge,
  Idempotent,
  MemoryIdempotencyStore,
  ResilienceConfigError,
  ResilienceEvents,
  ResilienceModule,
  Retry,
  Timeout,
} from '../../lib/index.js';
import { createKeyedApp } from './idempotency-http.js';

/** A memory store that remembers the lease and the fingerprint each acquire asked for. */
class LeaseSpy extends MemoryIdempotencyStore {
  readonly leases: number[] = [];
  readonly fingerprints: string[] = [];

  override acquire(key: string, fingerprint: string, token: string, leaseMs: number) {
    this.leases.push(leaseMs);
    this.fingerprints.push(fingerprint);
    return super.acquire(key, fingerprint, token, leaseMs);
  }
}

/** The same, for a store that keeps its records out of the process (as Redis does): no `exactFingerprints`. */
class SharedStoreSpy extends LeaseSpy {
  override readonly exactFingerprints = false;
}

@Controller()
class LeaseController {
  @Post('plain')
  @Idempotent()
  plain() {
    return {};
  }

  @Post('timeout')
  @Idempotent()
  @Timeout(300)
  timeout() {
    return {};
  }

  @Post('total')
  @Idempotent()
  @Timeout({ duration: 100, total: 500 })
  total() {
    return {};
  }

  @Post('retried')
  @Idempotent()
  @Retry({ maxAttempts: 3, maxDelay: 200 })
  @Timeout(100)
  retried() {
    return {};
  }

  @Post('adaptive')
  @Idempotent()
  @Timeout({ duration: 100, adaptive: { max: 800 } })
  adaptive() {
    return {};
  }

  @Post('hedged')
  @Idempotent()
  @Hedge({ delay: 50, maxHedges: 2, hedgeNonIdempotent: true })
  @Retry({ maxAttempts: 2, maxDelay: 200 })
  @Timeout(100)
  hedged() {
    return {};
  }

  @Post('capped')
  @Idempotent()
  @Retry({ maxAttempts: 5, maxDelay: 1000 })
  @Timeout({ duration: 1000, total: 2000 })
  capped() {
    return {};
  }

  @Post('explicit')
  @Idempotent({ lease: 5000 })
  @Timeout(100)
  explicit() {
    return {};
  }

  @Post('constant')
  @Idempotent()
  @Retry({ maxAttempts: 3, backoff: 'constant', initialDelay: 100 })
  @Timeout(200)
  constant() {
    return {};
  }

  private busy = 0;

  /** Fails once as an upstream 503 asking (`Retry-After`) for a 30 s pause, then answers. */
  @Post('busy')
  @Idempotent()
  @Retry({ maxAttempts: 2, backoff: 'constant', initialDelay: 10 })
  @Timeout(200)
  busyUpstream() {
    if (this.busy++ === 0) {
      throw Object.assign(new Error('upstream busy'), { response: { status: 503, headers: { 'retry-after': '30' } } });
    }
    return { busy: this.busy };
  }
}

const calls = { charge: 0, flaky: 0, attemptKeys: [] as (string | undefined)[] };

@Injectable()
class Payments {
  @Idempotent({ key: (orderId: string) => `order-${orderId}` })
  async charge(orderId: string): Promise<{ orderId: string; run: number; key: string | undefined }> {
    const key = getIdempotencyKey();
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { orderId, run: ++calls.charge, key };
  }

  @Idempotent({ key: (orderId: string) => orderId })
  async flaky(orderId: string): Promise<string> {
    if (++calls.flaky === 1) throw new HttpException('gateway down', 503);
    return `${orderId} charged`;
  }

  @Retry({ maxAttempts: 3, initialDelay: 1 })
  async withRetry(): Promise<string | undefined> {
    calls.attemptKeys.push(getIdempotencyKey());
    if (calls.attemptKeys.length % 3 !== 0) throw new Error('lost response');
    return getIdempotencyKey();
  }
}

async function bootstrap(module: Type): Promise<unknown> {
  try {
    const moduleRef = await Test.createTestingModule({ imports: [module] }).compile();
    await moduleRef.createNestApplication({ logger: false }).init();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('the in-flight lease', () => {
  it("lasts 1 s past the handler's own deadline, else the lease option, else 60 s", async () => {
    const store = new LeaseSpy();
    @Module({ imports: [ResilienceModule.forRoot({ idempotencyStore: store })], controllers: [LeaseController] })
    class LeaseModule {}
    const app = await createKeyedApp('express', LeaseModule);
    try {
      const routes = ['plain', 'timeout', 'total', 'retried', 'adaptive', 'hedged', 'capped', 'explicit', 'constant'];
      for (const route of routes) {
        expect((await app.post(`/${route}`, {}, { 'Idempotency-Key': route })).status).toBe(201);
      }
      // 60 s; 300 + 1 s; one 100 ms attempt within the 500 ms total + 1 s; 3 x 100 + the exponential waits 100 and
      // 200 (maxDelay 200) + 1 s; the adaptive max 800 + 1 s; 2 x (100 + 2 hedges x 50) + a 100 ms wait + 1 s; the
      // 2 s total + 1 s; the option; 3 x 200 + 2 constant waits of 100 + 1 s (not maxDelay's default 10 s).
      expect(store.leases).toEqual([60_000, 1300, 1100, 1600, 1800, 1500, 3000, 5000, 1800]);
    } finally {
      await app.close();
    }
  });
});

describe('a Retry-After under a derived lease', () => {
  it('is honoured only up to the wait the lease counted: the handler retries within its lease', async () => {
    const store = new LeaseSpy();
    @Module({ imports: [ResilienceModule.forRoot({ idempotencyStore: store })], controllers: [LeaseController] })
    class BusyModule {}
    const app = await createKeyedApp('fastify', BusyModule);
    const delays: number[] = [];
    app.app.get(ResilienceEvents).subscribe((event) => {
      if (event.type === 'retry') delays.push(event.delay);
    });
    try {
      const answer = await app.post('/busy', {}, { 'Idempotency-Key': 'busy' });
      expect(answer).toMatchObject({ status: 201, body: { busy: 2 } });
      // The lease: 2 x 200 + one 10 ms wait + 1 s. A 30 s pause would have outlived it by far.
      expect(store.leases).toEqual([1410]);
      expect(delays).toEqual([10]);
    } finally {
      await app.close();
    }
  });
});

describe('fingerprints', () => {
  it('are the request text for an in-process store, a SHA-256 digest for one that stores them elsewhere', async () => {
    const fingerprintsOf = async (store: LeaseSpy) => {
      @Module({ imports: [ResilienceModule.forRoot({ idempotencyStore: store })], controllers: [LeaseController] })
      class FingerprintModule {}
      const app = await createKeyedApp('express', FingerprintModule);
      try {
        const first = await app.post('/plain', { currency: 'EUR', amount: 42 }, { 'Idempotency-Key': 'fp' });
        const replay = await app.post('/plain', { amount: 42, currency: 'EUR' }, { 'Idempotency-Key': 'fp' });
        const other = await app.post('/plain', { amount: 43, currency: 'EUR' }, { 'Idempotency-Key': 'fp' });
        expect([first.status, replay.status, other.status]).toEqual([201, 201, 422]);
        expect(replay.headers['idempotent-replayed']).toBe('true');
        return store.fingerprints;
      } finally {
        await app.close();
      }
    };
    const exact = await fingerprintsOf(new LeaseSpy());
    expect(exact[0]).toBe('POST /plain\n{"amount":42,"currency":"EUR"}');
    const digests = await fingerprintsOf(new SharedStoreSpy());
    expect(digests[0]).toMatch(/^[\w-]{43}$/);
    expect(digests[0]).toBe(digests[1]);
    expect(digests[2]).not.toBe(digests[0]);
  });
});

describe('@Idempotent on provider methods and getIdempotencyKey()', () => {
  @Module({ imports: [ResilienceModule.forRoot()], providers: [Payments] })
  class PaymentsModule {}

  it('returns the first result to a later call with the key, joins one in flight, forgets errors', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [PaymentsModule] }).compile();
    const app = await moduleRef.createNestApplication({ logger: false }).init();
    try {
      const payments = app.get(Payments);
      const [first, joined] = await Promise.all([payments.charge('A'), payments.charge('A')]);
      expect(first).toEqual({ orderId: 'A', run: 1, key: 'order-A' });
      expect(joined).toBe(first);
      expect(await payments.charge('A')).toEqual(first);
      expect(await payments.charge('B')).toMatchObject({ run: 2, key: 'order-B' });
      await expect(payments.flaky('C')).rejects.toThrow('gateway down');
      expect(await payments.flaky('C')).toBe('C charged');
      expect(calls.flaky).toBe(2);
    } finally {
      await app.close();
    }
  });

  it('gives one key per logical call, the same on every @Retry attempt', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [PaymentsModule] }).compile();
    const app = await moduleRef.createNestApplication({ logger: false }).init();
    try {
      const payments = app.get(Payments);
      const first = await payments.withRetry();
      const second = await payments.withRetry();
      expect(first).toMatch(/^[0-9a-f-]{36}$/);
      expect(calls.attemptKeys.slice(0, 3)).toEqual([first, first, first]);
      expect(calls.attemptKeys.slice(3)).toEqual([second, second, second]);
      expect(second).not.toBe(first);
      expect(getIdempotencyKey()).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('fails at bootstrap without a key on a provider method, and for a bad option, naming it', async () => {
    @Injectable()
    class NoKey {
      // @ts-expect-error: provider methods need a key, and handlers' options have none
      @Idempotent({ ttl: 1000, rememberErrors: true })
      async run(): Promise<void> {}
    }
    @Module({ imports: [ResilienceModule.forRoot()], providers: [NoKey] })
    class NoKeyModule {}
    const missing = await bootstrap(NoKeyModule);
    expect(missing).toBeInstanceOf(ResilienceConfigError);
    expect((missing as Error).message).toMatch(
      /option "key" = undefined .*NoKey\.run.*is required on provider methods/,
    );

    @Controller()
    class BadTtl {
      @Post('x')
      @Idempotent({ ttl: 'a day' as unknown as number })
      x() {}
    }
    @Module({ imports: [ResilienceModule.forRoot()], controllers: [BadTtl] })
    class BadTtlModule {}
    const bad = await bootstrap(BadTtlModule);
    @Controller()
    class KeyOnHandler {
      @Post('x')
      @Idempotent({ key: () => 'k' } as never)
      x() {}
    }
    @Module({ imports: [ResilienceModule.forRoot()], controllers: [KeyOnHandler] })
    class KeyOnHandlerModule {}
    expect(((await bootstrap(KeyOnHandlerModule)) as Error).message).toMatch(
      /option "key" = \[function key\] .*applies to provider methods and message handlers only/,
    );
    @Injectable()
    class ScopeOnProvider {
      @Idempotent({ key: () => 'k', replay: 'all' } as never)
      async run(): Promise<void> {}
    }
    @Module({ imports: [ResilienceModule.forRoot()], providers: [ScopeOnProvider] })
    class ScopeOnProviderModule {}
    expect(((await bootstrap(ScopeOnProviderModule)) as Error).message).toMatch(
      /option "replay" = "all" .*ScopeOnProvider\.run.*applies to HTTP handlers only/,
    );
    expect((bad as Error).message).toBe(
      'Invalid idempotency option "ttl" = "a day" for policy "BadTtl.x" (declared on BadTtl.x): must be a finite ' +
        'number of milliseconds greater than 0, got the string "a day"',
    );
  });
});
