import { Controller, Get, Headers, HttpException, Injectable, Module, Param } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Fallback,
  ResilienceConfigError,
  ResilienceEvents,
  ResilienceModule,
  ResilienceRegistry,
  type ResilienceEventOf,
} from '../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from './http-harness.js';

const upstream = { up: true, calls: 0 };

@Injectable()
class QuotesService {
  @Fallback([{ lastKnownGood: { maxAge: 60_000 } }, { value: { symbol: '?', price: null } }])
  async quote(symbol: string): Promise<{ symbol: string; price: number | null }> {
    upstream.calls++;
    if (!upstream.up) throw new Error('quotes upstream down');
    return { symbol, price: symbol.length * 100 };
  }
}

/** The answer depends on who asks: the key includes the principal (here a header standing for the user). */
const byUser = (context: { switchToHttp(): { getRequest(): { headers: Record<string, string>; url: string } } }) => {
  const request = context.switchToHttp().getRequest();
  return `${request.headers['x-user'] ?? 'anonymous'}:${request.url}`;
};

@Controller()
class AccountController {
  constructor(private readonly quotes: QuotesService) {}

  @Get('balance')
  @Fallback([{ lastKnownGood: { maxAge: 60_000, key: byUser } }, 'unavailable'])
  balance(@Headers('x-user') user: string) {
    upstream.calls++;
    if (!upstream.up) throw new HttpException('ledger down', 503);
    return { user, balance: user.length * 10 };
  }

  unavailable() {
    return { balance: null };
  }

  @Get('popular/:category')
  @Fallback([{ lastKnownGood: { maxAge: 60_000, shared: true } }, { value: [] }])
  popular(@Param('category') category: string) {
    upstream.calls++;
    if (!upstream.up) throw new HttpException('recommendations down', 503);
    return [`${category}-1`, `${category}-2`];
  }

  @Get('quote/:symbol')
  quote(@Param('symbol') symbol: string) {
    return this.quotes.quote(symbol);
  }
}

@Module({ imports: [ResilienceModule.forRoot()], controllers: [AccountController], providers: [QuotesService] })
class AppModule {}

describe.each(PLATFORMS)('fallback chains with a last-known-good step (%s)', (platform) => {
  let testApp: TestApp;
  const events: ResilienceEventOf<'fallback'>[] = [];

  beforeAll(async () => {
    testApp = await createTestApp(platform, AppModule);
    testApp.app.get(ResilienceEvents).subscribe((event) => {
      if (event.type === 'fallback') events.push(event);
    });
  });
  afterAll(() => testApp.close());
  beforeEach(() => {
    upstream.up = true;
    upstream.calls = 0;
    events.length = 0;
  });

  it('serves the last good answer when the handler fails, marked stale in Cache-Status and Age', async () => {
    const fresh = await testApp.send('GET', '/popular/books');
    expect(fresh.status).toBe(200);
    expect(fresh.headers['cache-status']).toBeUndefined();
    upstream.up = false;
    const stale = await testApp.send('GET', '/popular/books');
    expect(stale.status).toBe(200);
    expect(stale.body).toEqual(['books-1', 'books-2']);
    expect(stale.headers['cache-status']).toBe('nest-resilience; hit; detail=stale-if-error');
    expect(stale.headers.age).toBe('0');
    expect(events).toEqual([expect.objectContaining({ step: 0, stale: true })]);
    // Never succeeded for this route: the next step answers, not stale.
    const other = await testApp.send('GET', '/popular/films');
    expect(other.body).toEqual([]);
    expect(other.headers['cache-status']).toBeUndefined();
  });

  it("never serves one user's remembered answer to another", async () => {
    await testApp.sendWith('GET', '/balance', { 'x-user': 'alice' });
    upstream.up = false;
    const alice = await testApp.sendWith('GET', '/balance', { 'x-user': 'alice' });
    expect(alice.body).toEqual({ user: 'alice', balance: 50 });
    const bob = await testApp.sendWith('GET', '/balance', { 'x-user': 'bob' });
    expect(bob.body).toEqual({ balance: null }); // the method step, not alice's balance
  });

  it('remembers service results per arguments and counts them in the registry', async () => {
    await testApp.send('GET', '/quote/ACME');
    upstream.up = false;
    expect((await testApp.send('GET', '/quote/ACME')).body).toEqual({ symbol: 'ACME', price: 400 });
    expect((await testApp.send('GET', '/quote/XYZ')).body).toEqual({ symbol: '?', price: null });
    const snapshot = testApp.app.get(ResilienceRegistry).lastKnownGood.get('QuotesService.quote').snapshot();
    expect(snapshot).toMatchObject({ served: 1, misses: 1 });
    expect(snapshot.size?.entries).toBeGreaterThanOrEqual(1);
  });
});

async function bootstrapError(controller: new (...args: never[]) => unknown): Promise<unknown> {
  @Module({ imports: [ResilienceModule.forRoot()], controllers: [controller] })
  class BadModule {}
  try {
    const moduleRef = await Test.createTestingModule({ imports: [BadModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await app.close();
  } catch (error) {
    return error;
  }
  throw new Error('bootstrap succeeded');
}

describe('a last-known-good step on a handler is checked at bootstrap', () => {
  it('refuses a handler without a key unless it is marked shared, saying how to include the principal', async () => {
    @Controller()
    class Unkeyed {
      @Get('me')
      @Fallback([{ lastKnownGood: { maxAge: 1000 } }])
      me() {
        return {};
      }
    }
    const error = await bootstrapError(Unkeyed);
    expect(error).toBeInstanceOf(ResilienceConfigError);
    expect((error as Error).message).toMatch(
      /^Invalid fallback option "key" = undefined for policy "Unkeyed.me" \(declared on Unkeyed.me\): .*shared: true/,
    );
  });

  it('refuses a missing or too long maxAge and an unknown option, naming the step', async () => {
    @Controller()
    class NoMaxAge {
      @Get('a')
      @Fallback([{ value: 1 }, { lastKnownGood: { shared: true } as never }])
      a() {
        return {};
      }
    }
    expect(((await bootstrapError(NoMaxAge)) as Error).message).toBe(
      'Invalid fallback option "maxAge" = undefined for policy "NoMaxAge.a step 1" (declared on NoMaxAge.a): ' +
        'is required: how old an answer may be (ms)',
    );
    @Controller()
    class TooLong {
      @Get('c')
      @Fallback([{ lastKnownGood: { maxAge: 2 ** 31, shared: true } }])
      c() {
        return {};
      }
    }
    expect(((await bootstrapError(TooLong)) as Error).message).toMatch(
      /Invalid fallback option "maxAge" = 2147483648 for policy "TooLong.c" .*must be at most 2147483647 ms/,
    );
    @Controller()
    class Typo {
      @Get('b')
      @Fallback([{ lastKnownGood: { maxAge: '5000', shared: true, maxEntrys: 5 } as never }])
      b() {
        return {};
      }
    }
    expect(((await bootstrapError(Typo)) as Error).message).toMatch(
      /Unknown fallback option "maxEntrys" .*Did you mean "maxEntries"\?/,
    );
  });
});

/** A value object whose state is private: JSON.stringify gives `{}` for every instance. */
class Money {
  readonly #cents: number;
  constructor(cents: number) {
    this.#cents = cents;
  }
  get cents(): number {
    return this.#cents;
  }
}

describe('the default last-known-good key of a provider is its arguments only when they are data', () => {
  async function boot(
    provider: new () => unknown,
  ): Promise<{ get: <T>(type: new (...args: never[]) => T) => T; close: () => Promise<void> }> {
    @Module({ imports: [ResilienceModule.forRoot()], providers: [provider] })
    class KeyModule {}
    const moduleRef = await Test.createTestingModule({ imports: [KeyModule] }).compile();
    await moduleRef.init();
    return { get: (type) => moduleRef.get(type), close: () => moduleRef.close() };
  }

  it('refuses at bootstrap a method with a class, Map or Set parameter and no key, naming the parameter', async () => {
    @Injectable()
    class Pricing {
      @Fallback([{ lastKnownGood: { maxAge: 60_000 } }])
      async convert(amount: Money): Promise<number> {
        return amount.cents;
      }
    }
    @Injectable()
    class Lookup {
      @Fallback([{ lastKnownGood: { maxAge: 60_000 } }])
      async find(_tenant: string, filters: Map<string, string>): Promise<number> {
        return filters.size;
      }
    }
    for (const [provider, type] of [
      [Pricing, 'Money'],
      [Lookup, 'Map'],
    ] as const) {
      const error = await boot(provider).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ResilienceConfigError);
      expect((error as Error).message).toMatch(new RegExp(`needs a key .*parameter \\d is a ${type}`));
    }
  });

  it('with a key, or arguments that are data, it works; untyped non-data arguments are never shared', async () => {
    let calls = 0;
    let up = true;
    @Injectable()
    class Rates {
      @Fallback([{ lastKnownGood: { maxAge: 60_000, key: (amount: Money) => String(amount.cents) } }, { value: -1 }])
      async typed(amount: Money): Promise<number> {
        calls++;
        if (!up) throw new Error('down');
        return amount.cents * 2;
      }

      @Fallback([{ lastKnownGood: { maxAge: 60_000 } }, { value: -1 }])
      async untyped(amount: unknown): Promise<number> {
        calls++;
        if (!up) throw new Error('down');
        return (amount as Money | Set<number>) instanceof Money
          ? (amount as Money).cents
          : (amount as Set<number>).size;
      }
    }
    const app = await boot(Rates);
    try {
      const rates = app.get(Rates);
      expect(await rates.typed(new Money(100))).toBe(200);
      expect(await rates.untyped(new Money(100))).toBe(100);
      expect(await rates.untyped(new Set([1, 2, 3]))).toBe(3);
      up = false;
      expect(await rates.typed(new Money(100))).toBe(200); // remembered under its explicit key
      expect(await rates.typed(new Money(5))).toBe(-1); // another key: nothing remembered
      // JSON would give [{}] for both: the default key refuses them, so neither answer is served to the other.
      expect(await rates.untyped(new Money(7))).toBe(-1);
      expect(await rates.untyped(new Set([9]))).toBe(-1);
      const snapshot = app.get(ResilienceRegistry).lastKnownGood.get('Rates.untyped').snapshot();
      expect(snapshot).toMatchObject({ remembered: 0, skipped: 2, served: 0 });
      expect(calls).toBe(7);
    } finally {
      await app.close();
    }
  });
});
