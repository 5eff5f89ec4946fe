import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import {
  Bulkhead,
  CircuitBreaker,
  Fallback,
  Hedge,
  MemoryIdempotencyStore,
  MemoryRateLimitStore,
  RateLimit,
  ResilienceConfigError,
  ResilienceModule,
  ResilienceService,
  Retry,
  Timeout,
  type ResilienceModuleOptions,
} from '../../lib/index.js';
import { ResilientHttpModule } from '../../lib/http/index.js';

// Size and count options have a maximum (lib/core/validation/size-maxima.ts): above it the application does not start,
// and the message names the option, the value, its type, the policy and why. Each family is tried the ways users
// configure it: a named configuration in forRoot, inline decorator options, ResilienceService options, the HTTP
// client's register options; and the maximum itself starts.

type Class = new (...args: never[]) => unknown;

/** Boots an app with `classes` (controllers and providers) and the module options; the bootstrap error, if any. */
async function bootstrap(
  classes: { providers?: Class[]; controllers?: Class[] },
  options: ResilienceModuleOptions = {},
): Promise<unknown> {
  @Module({ imports: [ResilienceModule.forRoot(options)], ...classes })
  class AppModule {}
  try {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await moduleRef.init();
    await moduleRef.close();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** The bootstrap error's message, after checking it is a configuration error. */
async function refusal(classes: { providers?: Class[]; controllers?: Class[] }, options?: ResilienceModuleOptions) {
  const error = await bootstrap(classes, options);
  expect(error).toBeInstanceOf(ResilienceConfigError);
  return (error as Error).message;
}

@Injectable()
class Plain {
  async call(): Promise<string> {
    return 'ok';
  }
}

describe('size maxima at bootstrap: forRoot named configurations', () => {
  it.each([
    [
      { circuitBreakers: { payments: { windowSize: 1e9 } } },
      'Invalid circuit breaker option "windowSize" = 1000000000 for policy "payments" (declared on ResilienceModule ' +
        'options "circuitBreakers"): must be at most 10,000, got the number 1000000000: a count window keeps one byte',
    ],
    [
      { circuitBreakers: { payments: { windowSize: 2 ** 53 - 1 } } },
      '"windowSize" = 9007199254740991 for policy "payments"',
    ],
    [{ bulkheads: { db: { maxQueue: '1000000' } } }, '"maxQueue" = "1000000" for policy "db"'],
    [
      { bulkheads: { db: { adaptive: { algorithm: 'vegas', maxLimit: 100_001 } } } },
      '"adaptive.maxLimit" = 100001 for policy "db"',
    ],
    [{ rateLimits: { api: { limit: 1e12 } } }, '"limit" = 1000000000000 for policy "api"'],
    [{ retries: { gateway: { maxAttempts: 1001 } } }, '"maxAttempts" = 1001 for policy "gateway"'],
    [{ timeouts: { search: { duration: 800, adaptive: { minSamples: 1e7 } } } }, '"adaptive.minSamples" = 10000000'],
    [{ chaos: { enabled: false, seed: 2 ** 32 } }, 'Invalid chaos option "seed" = 4294967296 for policy "chaos"'],
  ] as const)('refuses %j', async (options, message) => {
    const text = await refusal({ providers: [Plain] }, options as ResilienceModuleOptions);
    expect(text).toContain(message);
    expect(text).toMatch(/must be at most [\d,]+, got (the number|the string "\d+")/);
  });

  it('starts with every named maximum', async () => {
    const options = {
      circuitBreakers: { payments: { windowSize: 10_000, halfOpenMaxCalls: 10_000, consecutiveFailures: 10_000 } },
      bulkheads: { db: { maxConcurrent: 100_000, maxQueue: 100_000 } },
      rateLimits: { api: { limit: 1e9, burst: 1e9 } },
      retries: { gateway: { maxAttempts: 1000 } },
      timeouts: { search: { duration: 800, adaptive: { minSamples: 1_000_000 } } },
      chaos: { enabled: false, seed: 2 ** 32 - 1, maxInjectionsPerMinute: 1_000_000 },
      store: new MemoryRateLimitStore({ maxKeys: 1_000_000, maxKeyLength: 1024 }),
      idempotencyStore: new MemoryIdempotencyStore({ maxEntries: 1_000_000, maxBytes: 2 ** 30 }),
    } satisfies ResilienceModuleOptions;
    expect(await bootstrap({ providers: [Plain] }, options)).toBeUndefined();
  });
});

describe('size maxima at bootstrap: inline decorator options', () => {
  it('refuses a breaker window on a provider method, naming the method', async () => {
    @Injectable()
    class Gateway {
      @CircuitBreaker({ windowSize: 10_001 })
      async call(): Promise<void> {}
    }
    expect(await refusal({ providers: [Gateway] })).toBe(
      'Invalid circuit breaker option "windowSize" = 10001 for policy "Gateway.call" (declared on Gateway.call): ' +
        'must be at most 10,000, got the number 10001: a count window keeps one byte per call for each breaker, and ' +
        'an HTTP client one breaker per origin; a breaker judging more calls than that reacts long after the outage ' +
        'began',
    );
  });

  it.each([
    ['bulkhead maxConcurrent', '"maxConcurrent" = 100001', Bulkhead({ maxConcurrent: 100_001 })],
    ['rate limit burst', '"burst" = 2000000000', RateLimit({ limit: 10, burst: 2e9 })],
    ['retry maxAttempts', '"maxAttempts" = 5000', Retry({ maxAttempts: 5000 })],
    ['hedge maxHedges', '"maxHedges" = 11', Hedge({ maxHedges: 11 })],
    [
      'timeout adaptive.minSamples',
      '"adaptive.minSamples" = 2000000',
      Timeout({ duration: 100, adaptive: { minSamples: 2e6 } }),
    ],
    [
      'last-known-good maxBytes',
      '"maxBytes" = 2147483648',
      Fallback([{ lastKnownGood: { maxAge: 1000, shared: true, maxBytes: 2 ** 31 } }]),
    ],
  ])('refuses %s on a controller handler', async (_, message, decorator) => {
    @Controller('orders')
    class OrdersController {
      @Get()
      @decorator
      list(): string {
        return 'ok';
      }
    }
    const text = await refusal({ controllers: [OrdersController] });
    expect(text).toContain(`${message} for policy "OrdersController.list" (declared on OrdersController.list)`);
    expect(text).toMatch(/: must be at most [\d,]+, got the number \d+: \S/);
  });

  it('starts with the maxima inline', async () => {
    @Injectable()
    class Gateway {
      @CircuitBreaker({ windowSize: 10_000, minimumCalls: 10_000 })
      @Bulkhead({ maxConcurrent: 100_000, maxQueue: 100_000 })
      @RateLimit({ limit: 1e9 })
      @Retry({ maxAttempts: 1000 })
      @Hedge({ maxHedges: 10 })
      async call(): Promise<string> {
        return 'ok';
      }
    }
    expect(await bootstrap({ providers: [Gateway] })).toBeUndefined();
  });
});

describe('size maxima: ResilienceService options', () => {
  it('refuses each family in a pipeline, and runs one at the maxima', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ResilienceModule.forRoot()] }).compile();
    await moduleRef.init();
    try {
      const service = moduleRef.get(ResilienceService);
      const run = (options: object) => (async () => service.execute({ name: 'sync', ...options }, () => 'done'))();
      await expect(run({ circuitBreaker: { windowSize: 20_000 } })).rejects.toThrow(
        new RegExp(
          '^Invalid circuit breaker option "windowSize" = 20000 for policy "ResilienceService.sync" .*: ' +
            'must be at most 10,000, got the number 20000: ',
        ),
      );
      await expect(run({ bulkhead: { maxQueue: 1e6 } })).rejects.toThrow(/"maxQueue" = 1000000 .*at most 100,000/);
      await expect(run({ rateLimit: { limit: 1e10 } })).rejects.toThrow(
        /"limit" = 10000000000 .*at most 1,000,000,000/,
      );
      await expect(run({ retry: { maxAttempts: 1e4 } })).rejects.toThrow(/"maxAttempts" = 10000 .*at most 1,000/);
      await expect(run({ retry: { maxAttempts: 1e4 } })).rejects.toBeInstanceOf(ResilienceConfigError);
      await expect(
        run({
          circuitBreaker: { windowSize: 10_000 },
          bulkhead: { maxConcurrent: 100_000, maxQueue: 100_000 },
          rateLimit: { limit: 1e9 },
          retry: { maxAttempts: 1000 },
        }),
      ).resolves.toBe('done');
    } finally {
      await moduleRef.close();
    }
  });
});

describe("size maxima: the HTTP client's register options", () => {
  it.each([
    [{ circuitBreaker: { window: 'count', windowSize: 50_000 } }, 'circuit breaker option "windowSize" = 50000'],
    [{ bulkhead: { maxConcurrent: 1e6 } }, 'bulkhead option "maxConcurrent" = 1000000'],
    [{ rateLimit: { limit: 5e9, interval: 1000 } }, 'rate limit option "limit" = 5000000000'],
    [{ retry: { maxAttempts: 1001 } }, 'retry option "maxAttempts" = 1001'],
    [{ hedge: { maxHedges: 20 } }, 'hedge option "maxHedges" = 20'],
    [{ maxOrigins: 20_000 }, 'http client option "maxOrigins" = 20000'],
  ])('refuses %j at register, naming the client', (options, message) => {
    let error: unknown;
    try {
      ResilientHttpModule.register({ name: 'orders', ...options } as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ResilienceConfigError);
    expect((error as Error).message).toContain(`Invalid ${message} for policy "orders"`);
    expect((error as Error).message).toMatch(/, got the number \d+: \S/);
  });

  it('starts a client at the maxima', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ResilienceModule.forRoot(),
        ResilientHttpModule.register({
          name: 'orders',
          circuitBreaker: { window: 'count', windowSize: 10_000, minimumCalls: 10 },
          bulkhead: { maxConcurrent: 100_000, maxQueue: 100_000 },
          rateLimit: { limit: 1e9, interval: 1000 },
          retry: { maxAttempts: 1000 },
          hedge: { maxHedges: 10 },
          maxOrigins: 10_000,
          maxBodyExcerpt: 1_000_000,
        }),
      ],
    }).compile();
    await moduleRef.init();
    await moduleRef.close();
  });
});
