import { Controller, Get, Injectable, Module, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  Hedge,
  HedgeLostError,
  ResilienceConfigError,
  ResilienceEvents,
  ResilienceRegistry,
  ResilienceModule,
  TimeoutSignal,
  type LatencySource,
  type ResilienceModuleOptions,
} from '../../lib/index.js';
import { DEFAULT_MIN_LATENCY_SAMPLES } from '../../lib/core/hedge/metrics-latency.source.js';
import { createTestApp, PLATFORMS, type TestApp } from './http-harness.js';

async function bootstrap(options: ResilienceModuleOptions, controllers: (new () => unknown)[], providers = []) {
  @Module({ imports: [ResilienceModule.forRoot(options)], controllers, providers })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  await moduleRef.init();
  return moduleRef;
}

const errorOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('@Hedge at bootstrap', () => {
  it('refuses a POST handler unless hedgeNonIdempotent says so', async () => {
    @Controller()
    class PaymentsController {
      @Post('charge')
      @Hedge({ delay: 50 })
      charge() {
        return 'ok';
      }
    }
    const error = await errorOf(bootstrap({}, [PaymentsController]));
    expect(error).toBeInstanceOf(ResilienceConfigError);
    expect((error as Error).message).toMatch(
      /hedge option "hedgeNonIdempotent" = undefined for policy "PaymentsController.charge".*POST route/,
    );

    @Controller()
    class IdempotentController {
      @Post('charge')
      @Hedge({ delay: 50, hedgeNonIdempotent: true })
      charge() {
        return 'ok';
      }

      @Get('quote')
      @Hedge({ delay: 50 })
      quote() {
        return 'ok';
      }
    }
    await (await bootstrap({}, [IdempotentController])).close();
  });

  it('uses a latencySource when given: the hedge starts after the delay it answers', async () => {
    const attempts = { started: 0 };
    @Injectable()
    class SearchClient {
      @Hedge({ delay: { percentile: 95, fallback: 40 } })
      async search(): Promise<string> {
        const hedge = attempts.started++ > 0;
        await new Promise((resolve) => setTimeout(resolve, hedge ? 5 : 100));
        return hedge ? 'hedge' : 'first';
      }
    }
    const asked: unknown[] = [];
    const latencySource: LatencySource = {
      percentile: (target, percentile) => (asked.push([target.methodName, percentile]), 10),
    };
    const moduleRef = await bootstrap({ latencySource }, [], [SearchClient] as never);
    const hedges: number[] = [];
    moduleRef.get(ResilienceEvents).subscribe((event) => {
      if (event.type === 'hedge') hedges.push(event.delay);
    });
    vi.useFakeTimers();
    try {
      let answer: string | undefined;
      void moduleRef
        .get(SearchClient)
        .search()
        .then((value) => (answer = value));
      // The source's 10 ms, not the 40 ms fallback: the hedge starts at 10 and answers at 15, long before the first.
      await vi.advanceTimersByTimeAsync(15);
      expect(hedges).toEqual([10]);
      expect(answer).toBe('hedge');
      expect(asked).toEqual([['search', 95]]);
    } finally {
      vi.useRealTimers();
      await moduleRef.close();
    }
  });
});

describe('@Hedge({ delay: { percentile } }) out of the box', () => {
  /** How long each next call's first attempt takes (ms); hedges answer in 10 ms. */
  const firstAttempts: number[] = [];

  @Injectable()
  class CatalogClient {
    @Hedge({ delay: { percentile: 90, fallback: 300 } })
    async product(): Promise<string> {
      const hedged = attempts.pending; // a call's second attempt is its hedge
      attempts.pending = true;
      const ms = hedged ? 10 : firstAttempts.shift()!;
      await new Promise((resolve) => setTimeout(resolve, ms));
      return hedged ? 'hedge' : 'first';
    }
  }
  const attempts = { pending: false };

  afterEach(() => vi.useRealTimers());

  const title =
    "reads the method's own recent percentile (call metrics off), the fallback until " +
    `${DEFAULT_MIN_LATENCY_SAMPLES} calls`;
  it(title, async () => {
    const moduleRef = await bootstrap({}, [], [CatalogClient] as never);
    const hedges: number[] = [];
    moduleRef.get(ResilienceEvents).subscribe((event) => {
      if (event.type === 'hedge') hedges.push(event.delay);
    });
    vi.useFakeTimers();
    const client = moduleRef.get(CatalogClient);
    const call = async () => {
      attempts.pending = false;
      const start = performance.now();
      const answer = client.product().then((value) => ({ answer: value, took: performance.now() - start }));
      await vi.advanceTimersByTimeAsync(2_000);
      return answer;
    };
    // 19 calls of 10, 20 ... 190 ms: too few to trust, and none slow enough for the 300 ms fallback.
    for (let ms = 10; ms < 200; ms += 10) {
      firstAttempts.push(ms);
      expect((await call()).answer).toBe('first');
    }
    expect(hedges).toEqual([]);
    // A slow call: hedged at the fallback, 300 ms (the 20th call of the window).
    firstAttempts.push(1_000);
    expect(await call()).toMatchObject({ answer: 'hedge' });
    expect(hedges).toEqual([300]);
    // The next slow call is hedged at the 90th percentile of the 20 calls (10 ... 190, and 310): 180 ms.
    firstAttempts.push(1_000);
    const hedged = await call();
    expect(hedged.answer).toBe('hedge');
    expect(hedges[1]).toBeGreaterThanOrEqual(180);
    expect(hedges[1]).toBeLessThan(181); // the histogram keeps 3 significant figures
    expect(hedged.took).toBeLessThan(hedges[1] + 10 + 1);
    expect(moduleRef.get(ResilienceRegistry).targets.get('CatalogClient.product').snapshot().count).toBe(21);
    vi.useRealTimers();
    await moduleRef.close();
  });
});

/** The first request's first attempt hangs until released; every other attempt answers at once. */
const quotes = { attempts: 0, release: undefined as (() => void) | undefined };

@Controller()
class QuotesController {
  @Get('quote')
  @Hedge({ delay: 20 })
  async quote() {
    const attempt = ++quotes.attempts;
    if (attempt === 1) await new Promise<void>((resolve) => (quotes.release = resolve));
    return { attempt };
  }
}

/** Each attempt's `@TimeoutSignal()`, in the order the attempts started. */
const signals: AbortSignal[] = [];

@Controller()
class PricesController {
  @Get('price')
  @Hedge({ delay: 20 })
  async price(@TimeoutSignal() signal: AbortSignal) {
    const attempt = signals.push(signal);
    // The first attempt answers only when aborted (it lost); the hedge answers at once.
    if (attempt === 1) await new Promise((resolve) => signal.addEventListener('abort', resolve));
    return { attempt };
  }
}

@Module({ imports: [ResilienceModule.forRoot()], controllers: [QuotesController, PricesController] })
class QuotesModule {}

describe.each(PLATFORMS)('@Hedge on a %s handler', (platform) => {
  let app: TestApp | undefined;
  afterEach(async () => {
    quotes.release?.();
    await app?.close();
    app = undefined;
    quotes.attempts = 0;
  });

  it('runs the handler again after the delay and answers with the first attempt that succeeds', async () => {
    app = await createTestApp(platform, QuotesModule);
    const answer = await app.send('GET', '/quote');
    expect(answer).toMatchObject({ status: 200, body: { attempt: 2 } });
    expect(quotes.attempts).toBe(2);
  });

  it("gives each attempt its own @TimeoutSignal(): the loser's is aborted, the winner's is not", async () => {
    signals.length = 0;
    app = await createTestApp(platform, QuotesModule);
    const answer = await app.send('GET', '/price');
    expect(answer).toMatchObject({ status: 200, body: { attempt: 2 } });
    expect(signals).toHaveLength(2);
    expect(signals[0]).not.toBe(signals[1]);
    expect(signals[0].aborted).toBe(true);
    expect(signals[0].reason).toBeInstanceOf(HedgeLostError);
    expect(signals[1].aborted).toBe(false);
  });
});
