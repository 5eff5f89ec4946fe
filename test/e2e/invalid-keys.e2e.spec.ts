import { Controller, Injectable, Module, Post, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { firstValueFrom, Observable, of } from 'rxjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Bulkhead,
  Idempotent,
  InvalidKeyError,
  RateLimit,
  ResilienceModule,
  ResilienceService,
} from '../../lib/index.js';
import { PLATFORMS } from './http-harness.js';
import { freshKey, listen, type ListeningApp } from './idempotency-listen.js';

/** How many times each method or handler really ran. */
const ran: Record<string, number> = {};
const count = (name: string) => (ran[name] = (ran[name] ?? 0) + 1);

/** Whatever the caller passes is the key: the test passes what key functions return by mistake. */
const asKey = (key: unknown) => key as string;

@Injectable()
class Accounts {
  @Bulkhead({ maxConcurrent: 2, key: asKey })
  async pooled(_tenant: unknown): Promise<string> {
    count('pooled');
    return 'pooled';
  }

  @Bulkhead({ maxConcurrent: 2, key: asKey })
  pooled$(_tenant: unknown): Observable<string> {
    count('pooled$');
    return of('pooled$');
  }

  @RateLimit({ limit: 100, interval: 60_000, key: asKey })
  async limited(_tenant: unknown): Promise<string> {
    count('limited');
    return 'limited';
  }

  @RateLimit({ limit: 100, interval: 60_000, key: asKey })
  limited$(_tenant: unknown): Observable<string> {
    count('limited$');
    return of('limited$');
  }

  @Idempotent({ key: asKey })
  async charged(_event: unknown): Promise<string> {
    count('charged');
    return 'charged';
  }

  @Idempotent({ key: asKey })
  charged$(_event: unknown): Observable<string> {
    count('charged$');
    return of('charged$');
  }
}

/** What handlers key by: a header the client may leave out, so the function returns `undefined`. */
const header = (name: string) => (context: ExecutionContext) =>
  context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers[name] as string;

@Controller()
class OrdersController {
  @Post('limited')
  @RateLimit({ limit: 100, interval: 60_000, key: header('x-tenant') })
  limited() {
    count('POST /limited');
    return { ok: true };
  }

  @Post('pooled')
  @Bulkhead({ maxConcurrent: 2, key: header('x-tenant') })
  pooled() {
    count('POST /pooled');
    return { ok: true };
  }

  @Post('scoped')
  @Idempotent({ scope: header('x-user') })
  scoped() {
    count('POST /scoped');
    return { ok: true };
  }
}

@Module({ imports: [ResilienceModule.forRoot()], controllers: [OrdersController], providers: [Accounts] })
class AppModule {}

const NOT_KEYS: readonly [string, unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ["''", ''],
  ['an object', { id: 1 }],
  ['an array', [1]],
  ['a Map', new Map()],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['a boolean', false],
];

beforeEach(() => {
  for (const name of Object.keys(ran)) delete ran[name];
});

describe('key functions of provider methods and ResilienceService that return no key', () => {
  let app: INestApplication;
  let accounts: Accounts;
  let resilience: ResilienceService;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    accounts = app.get(Accounts);
    resilience = app.get(ResilienceService);
  });
  afterAll(() => app.close());

  const methods = [
    ['@Bulkhead', 'pooled', 'bulkhead-key', 'Accounts.pooled'],
    ['@RateLimit', 'limited', 'rate-limit-key', 'Accounts.limited'],
    ['@Idempotent', 'charged', 'idempotency-key', 'Accounts.charged'],
  ] as const;

  describe.each(methods)('%s', (_decorator, method, source, policy) => {
    it.each(NOT_KEYS)(
      'rejects the call whose key is %s (Promise and Observable); the method never runs',
      async (_n, key) => {
        await expect(accounts[method](key)).rejects.toMatchObject({ code: 'INVALID_KEY', source, policy });
        const observable = accounts[`${method}$`](key);
        await expect(firstValueFrom(observable)).rejects.toMatchObject({
          code: 'INVALID_KEY',
          source,
          policy: `${policy}$`,
        });
        expect(ran).toEqual({});
      },
    );

    it('still runs calls with a string, a number or a bigint key', async () => {
      await expect(accounts[method]('acct-1')).resolves.toBe(method);
      await expect(accounts[method](2)).resolves.toBe(method);
      await expect(firstValueFrom(accounts[`${method}$`](3n))).resolves.toBe(`${method}$`);
      expect(ran).toEqual({ [method]: 2, [`${method}$`]: 1 });
    });
  });

  it('never shares a record with the string "undefined", as String(undefined) made it do', async () => {
    // Before: String(undefined) = "undefined", so the second call got the first one's stored answer.
    await expect(accounts.charged('undefined')).resolves.toBe('charged');
    await expect(accounts.charged(undefined)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(accounts.charged({})).rejects.toBeInstanceOf(InvalidKeyError);
    expect(ran).toEqual({ charged: 1 });
  });

  it('ResilienceService: a bulkhead or rate-limit key function with no key rejects with INVALID_KEY', async () => {
    const work = () => count('execute');
    await expect(
      resilience.execute({ name: 'pool', bulkhead: { maxConcurrent: 1, key: () => asKey(undefined) } }, work),
    ).rejects.toMatchObject({ code: 'INVALID_KEY', source: 'bulkhead-key' });
    await expect(
      resilience.execute({ name: 'quota', rateLimit: { limit: 5, interval: 1000, key: () => asKey({}) } }, work),
    ).rejects.toMatchObject({ code: 'INVALID_KEY', source: 'rate-limit-key' });
    expect(ran).toEqual({});
    await expect(
      resilience.execute({ name: 'keyed-pool', bulkhead: { maxConcurrent: 1, key: () => 'tenant' } }, () => 'ran'),
    ).resolves.toBe('ran');
  });
});

describe.each(PLATFORMS)('handler key and scope functions that return no key, on %s', (platform) => {
  let app: ListeningApp;

  beforeAll(async () => {
    app = await listen(platform, AppModule);
  });
  afterAll(() => app.close());

  it.each([
    ['@RateLimit key', '/limited', 'x-tenant', 'rate-limit-key', 'OrdersController.limited'],
    ['@Bulkhead key', '/pooled', 'x-tenant', 'bulkhead-key', 'OrdersController.pooled'],
    ['@Idempotent scope', '/scoped', 'x-user', 'idempotency-scope', 'OrdersController.scoped'],
  ])('%s: 500 with the code INVALID_KEY, the handler never runs; with the header it runs', async (...row) => {
    const [, url, name, , policy] = row;
    const key = freshKey('invalid');
    const refused = await app.send(url, { body: {}, headers: key });
    expect(refused.status).toBe(500);
    expect(refused.body).toMatchObject({
      statusCode: 500,
      error: 'Internal Server Error',
      code: 'INVALID_KEY',
      policy,
      message: expect.stringContaining('returned undefined') as unknown,
    });
    expect(ran).toEqual({});
    const served = await app.send(url, { body: {}, headers: { ...key, [name]: 'ada' } });
    expect(served.status).toBe(201);
    expect(ran).toEqual({ [`POST ${url}`]: 1 });
  });
});
