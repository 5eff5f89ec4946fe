import { Body, Controller, HttpException, Injectable, Module, Post, type ExecutionContext } from '@nestjs/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { getIdempotencyKey, Hedge, Idempotent, ResilienceModule, ResilienceService, Retry } from '../../lib/index.js';
import { deriveIdempotencyKey } from '../../lib/core/idempotency/request-key.js';
import { PLATFORMS } from './http-harness.js';
import { freshKey, listen, type ListeningApp } from './idempotency-listen.js';

/** Every key the "gateway" received, in order, by the method that sent it. */
let seen: { target: string; key: string | undefined }[] = [];
/** What each attempt of a `ResilienceService.execute` callback saw: its `idempotencyKey` and `getIdempotencyKey()`. */
let attempts: { handlerRun: number; attempt: number; key: string | undefined; read: string | undefined }[] = [];
let handlerRuns = 0;
const failures: Record<string, number> = {};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Injectable()
class Gateway {
  /** Fails its first two attempts each time `failures.charge` says so: @Retry repeats it. */
  @Retry({ maxAttempts: 3, initialDelay: 1, jitter: 'none' })
  async charge(amount: number): Promise<number> {
    seen.push({ target: 'Gateway.charge', key: getIdempotencyKey() });
    if ((failures.charge ?? 0) > 0) {
      failures.charge--;
      throw new Error('gateway busy');
    }
    await sleep(1);
    return amount;
  }

  /** The first attempt is slow: a hedged attempt starts after 5 ms and answers. */
  @Hedge({ delay: 5 })
  async quote(): Promise<string> {
    const key = getIdempotencyKey();
    seen.push({ target: 'Gateway.quote', key });
    if (seen.filter((entry) => entry.target === 'Gateway.quote').length % 2 === 1) await sleep(200);
    return 'quoted';
  }
}

@Controller()
class CheckoutController {
  constructor(
    private readonly gateway: Gateway,
    private readonly resilience: ResilienceService,
  ) {}

  @Post('checkout')
  @Idempotent({
    scope: (context: ExecutionContext) =>
      String(context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-user']),
  })
  async checkout(@Body() body: { fail?: boolean }) {
    const own = getIdempotencyKey();
    await this.gateway.charge(10);
    await this.gateway.charge(20);
    await this.gateway.quote();
    await this.resilience.pipeline({ name: 'ledger', retry: { maxAttempts: 2, initialDelay: 1 } }).execute(() => {
      seen.push({ target: 'ResilienceService.ledger', key: getIdempotencyKey() });
    });
    // A 5xx is not stored: the client's retry runs the handler again.
    if (body.fail) throw new HttpException('downstream failed', 503);
    return { own };
  }

  /**
   * Hedged: the first run is slow, so a second one starts after 5 ms; each runs a `ResilienceService.execute` whose
   * callback fails twice before @Retry's third attempt succeeds.
   */
  @Post('attempts')
  @Idempotent()
  @Hedge({ delay: 5, hedgeNonIdempotent: true })
  async attempts() {
    const handlerRun = ++handlerRuns;
    await this.resilience.execute(
      { name: 'payments', retry: { maxAttempts: 3, initialDelay: 1, jitter: 'none' } },
      ({ attempt, idempotencyKey }) => {
        attempts.push({ handlerRun, attempt, key: idempotencyKey, read: getIdempotencyKey() });
        if (attempt < 3) throw new Error('gateway busy');
      },
    );
    if (handlerRun === 1) await sleep(200);
    return { own: getIdempotencyKey() };
  }

  /** A handler-level @Retry: its second attempt makes the same downstream calls with the same keys. */
  @Post('retried')
  @Idempotent()
  @Retry({ maxAttempts: 2, initialDelay: 1, jitter: 'none' })
  async retried() {
    await this.gateway.charge(30);
    if ((failures.handler ?? 0) > 0) {
      failures.handler--;
      throw new HttpException('try again', 503);
    }
    return { own: getIdempotencyKey() };
  }
}

@Module({ imports: [ResilienceModule.forRoot()], controllers: [CheckoutController], providers: [Gateway] })
class AppModule {}

const keysOf = (target: string) => seen.filter((entry) => entry.target === target).map((entry) => entry.key);

describe.each(PLATFORMS)('one key per request, in every nested call and attempt, on %s', (platform) => {
  let app: ListeningApp;

  beforeAll(async () => {
    app = await listen(platform, AppModule);
  });
  afterAll(() => app.close());
  beforeEach(() => {
    seen = [];
    attempts = [];
    handlerRuns = 0;
    for (const name of Object.keys(failures)) delete failures[name];
  });

  it('derives each call key from the request key, the same on every @Retry and hedged attempt', async () => {
    failures.charge = 2;
    const answer = await app.send('/checkout', { body: {}, headers: { ...freshKey('keys'), 'x-user': 'ada' } });
    expect(answer.status).toBe(201);
    const { own } = answer.body as { own: string };
    expect(own).toMatch(/^[\w-]{43}$/);
    // Three attempts of the first charge, one of the second: two charges made on purpose get two keys.
    const first = deriveIdempotencyKey(own, 'Gateway.charge', 1);
    const second = deriveIdempotencyKey(own, 'Gateway.charge', 2);
    expect(keysOf('Gateway.charge')).toEqual([first, first, first, second]);
    expect(second).not.toBe(first);
    // Both hedged attempts of one call send its one key.
    const quotes = keysOf('Gateway.quote');
    expect(quotes).toHaveLength(2);
    expect(quotes).toEqual([
      deriveIdempotencyKey(own, 'Gateway.quote', 1),
      deriveIdempotencyKey(own, 'Gateway.quote', 1),
    ]);
    expect(keysOf('ResilienceService.ledger')).toEqual([deriveIdempotencyKey(own, 'ResilienceService.ledger', 1)]);
  });

  it("sends the same keys again on the client's retry after a 5xx, other keys for another key or user", async () => {
    const headers = { ...freshKey('retry'), 'x-user': 'ada' };
    const failed = await app.send('/checkout', { body: { fail: true }, headers });
    expect(failed.status).toBe(503);
    const firstRun = seen.map((entry) => entry.key);
    seen = [];
    const retried = await app.send('/checkout', { body: { fail: true }, headers });
    expect(retried.status).toBe(503);
    expect(seen.map((entry) => entry.key)).toEqual(firstRun);

    seen = [];
    await app.send('/checkout', { body: { fail: true }, headers: { ...headers, 'x-user': 'bob' } });
    const otherUser = seen.map((entry) => entry.key);
    seen = [];
    await app.send('/checkout', { body: { fail: true }, headers: { ...freshKey('other'), 'x-user': 'ada' } });
    const otherKey = seen.map((entry) => entry.key);
    for (const key of firstRun) {
      expect(otherUser).not.toContain(key);
      expect(otherKey).not.toContain(key);
    }
  });

  it('gives a handler-level @Retry attempt the same downstream keys as the first', async () => {
    failures.handler = 1;
    const answer = await app.send('/retried', { body: {}, headers: freshKey('handler-retry') });
    expect(answer.status).toBe(201);
    const { own } = answer.body as { own: string };
    const expected = deriveIdempotencyKey(own, 'Gateway.charge', 1);
    expect(keysOf('Gateway.charge')).toEqual([expected, expected]);
  });

  it('PipelineAttempt.idempotencyKey: the derived key, the same on every attempt and hedged attempt', async () => {
    const answer = await app.send('/attempts', { body: {}, headers: freshKey('attempts') });
    expect(answer.status).toBe(201);
    const { own } = answer.body as { own: string };
    // Both hedged runs of the handler, three attempts each (the slow run's may still be finishing).
    await vi.waitFor(() => expect(attempts).toHaveLength(6));
    expect(new Set(attempts.map((each) => each.handlerRun))).toEqual(new Set([1, 2]));
    const derived = deriveIdempotencyKey(own, 'ResilienceService.payments', 1);
    for (const seenByAttempt of attempts) expect(seenByAttempt).toMatchObject({ key: derived, read: derived });
  });

  it('PipelineAttempt.idempotencyKey is undefined outside a keyed request', async () => {
    const answer = await app.send('/attempts', { body: {} });
    expect(answer.status).toBe(201);
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    for (const { key, read } of attempts) {
      expect(key).toBeUndefined();
      expect(read).toMatch(/^[0-9a-f-]{36}$/); // getIdempotencyKey() still makes a random key for the downstream
    }
  });

  it('keeps random keys outside a keyed request', async () => {
    const answer = await app.send('/retried', { body: {} });
    expect(answer.status).toBe(201);
    expect((answer.body as { own?: string }).own).toBeUndefined();
    expect(keysOf('Gateway.charge')[0]).toMatch(/^[0-9a-f-]{36}$/);
  });
});
