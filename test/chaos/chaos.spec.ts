import { Controller, Get, Injectable, Module, type ExecutionContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ChaosFaultError,
  CircuitBreaker,
  ResilienceConfigError,
  ResilienceEvents,
  ResilienceModule,
  ResilienceRegistry,
  ResilienceService,
  Retry,
  Timeout,
  TimeoutError,
  type ChaosOptions,
  type ResilienceEvent,
  type ResilienceModuleOptions,
} from '../../lib/index.js';
import { createTestApp, PLATFORMS } from '../e2e/http-harness.js';

@Injectable()
class PaymentsClient {
  calls = 0;

  @Retry('gateway')
  @CircuitBreaker('gateway')
  async charge(tenant: string): Promise<string> {
    this.calls++;
    return `charged ${tenant}`;
  }
}

const apps: { close(): Promise<void> }[] = [];
afterEach(async () => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function boot(chaos: ChaosOptions, options: ResilienceModuleOptions = {}) {
  @Module({
    imports: [
      ResilienceModule.forRoot({
        retries: { gateway: { maxAttempts: 3, initialDelay: 0, jitter: 'none' } },
        circuitBreakers: { gateway: { consecutiveFailures: 100 } },
        ...options,
        chaos,
      }),
    ],
    providers: [PaymentsClient],
  })
  class AppModule {}
  const app = await Test.createTestingModule({ imports: [AppModule] }).compile();
  await app.init();
  apps.push(app);
  const events: ResilienceEvent[] = [];
  app.get(ResilienceEvents).subscribe((event) => events.push(event));
  return {
    client: app.get(PaymentsClient),
    resilience: app.get(ResilienceService),
    registry: app.get(ResilienceRegistry),
    events,
  };
}

const injections = (events: ResilienceEvent[]) => events.filter((event) => event.type === 'chaos-injected');

describe('chaos: injected where the real policies handle it', () => {
  it('an injected fault is retried, recorded by the breaker, and named in an event', async () => {
    const { client, registry, events } = await boot({
      enabled: true,
      experiments: { gateway: { fault: { rate: 1 } } },
    });
    await expect(client.charge('acme')).rejects.toBeInstanceOf(ChaosFaultError);
    expect(client.calls).toBe(0);
    expect(injections(events)).toEqual(
      [1, 2, 3].map((attempt) => ({
        type: 'chaos-injected',
        policy: 'gateway',
        target: { className: 'PaymentsClient', methodName: 'charge' },
        attempt,
        injected: 'fault',
      })),
    );
    expect(registry.circuitBreakers.get('gateway').snapshot().failures).toBe(3);
  });

  it('injected latency ends at the timeout: TimeoutError at its duration, no timer left, nothing called', async () => {
    const { resilience } = await boot({
      enabled: true,
      experiments: { 'ResilienceService.quotes': { latency: { rate: 1, delay: 60_000 } } },
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    let called = false;
    const outcome = resilience
      .execute({ name: 'quotes', timeout: 100 }, () => {
        called = true;
        return 1;
      })
      .catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(100);
    expect(await outcome).toBeInstanceOf(TimeoutError);
    expect(called).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an injected outcome answers instead of the call; a fallback answers an injected fault', async () => {
    const { resilience } = await boot({
      enabled: true,
      experiments: {
        'ResilienceService.stale': { outcome: { rate: 1, value: () => 'stale' } },
        'ResilienceService.broken': { fault: { rate: 1, error: () => new Error('injected') } },
      },
    });
    expect(await resilience.execute({ name: 'stale', timeout: 1_000 }, () => 'fresh')).toBe('stale');
    const fallback = (error: unknown) => `fallback after ${(error as Error).message}`;
    expect(await resilience.execute({ name: 'broken', timeout: 1_000, fallback }, () => 'fresh')).toBe(
      'fallback after injected',
    );
  });
});

describe('chaos: off unless asked for three times', () => {
  it('injects nothing without the module flag, whatever the rates', async () => {
    const { client, events } = await boot({ enabled: false, experiments: { gateway: { fault: { rate: 1 } } } });
    expect(await client.charge('acme')).toBe('charged acme');
    expect(injections(events)).toEqual([]);
  });

  it('injects nothing while every rate is 0, and a rate set at run time takes effect on the next call', async () => {
    const { client, registry } = await boot({ enabled: true, experiments: { gateway: { fault: { rate: 0 } } } });
    expect(await client.charge('acme')).toBe('charged acme');
    registry.chaos.set('gateway', { fault: 1 });
    await expect(client.charge('acme')).rejects.toBeInstanceOf(ChaosFaultError);
  });

  it('refuses to start when NODE_ENV is production, unless allowInProduction is set', async () => {
    vi.stubEnv('NODE_ENV', 'production');
    const chaos = { enabled: true, experiments: { gateway: { fault: { rate: 0.1 } } } };
    const failure = await boot(chaos).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ResilienceConfigError);
    expect((failure as Error).message).toMatch(/NODE_ENV is "production".*allowInProduction: true/);
    const { client } = await boot({
      ...chaos,
      experiments: { gateway: { fault: { rate: 1 } } },
      allowInProduction: true,
    });
    await expect(client.charge('acme')).rejects.toBeInstanceOf(ChaosFaultError); // it injects in production
  });

  it.each(['Production', 'PRODUCTION', 'prod', 'Prod', ' production '])(
    'counts NODE_ENV=%j as production, whatever its case',
    async (environment) => {
      vi.stubEnv('NODE_ENV', environment);
      const chaos = { enabled: true, experiments: { gateway: { fault: { rate: 0.1 } } } };
      await expect(boot(chaos)).rejects.toThrow(/NODE_ENV is "production" or "prod" in any case/);
    },
  );

  it.each(['staging', 'prd', 'development', 'production-like'])('lets NODE_ENV=%j start with chaos', async (env) => {
    vi.stubEnv('NODE_ENV', env);
    const { client } = await boot({ enabled: true, experiments: { gateway: { fault: { rate: 1 } } } });
    await expect(client.charge('acme')).rejects.toBeInstanceOf(ChaosFaultError);
  });

  it('refuses at bootstrap an experiment naming no configuration and no target, with "did you mean"', async () => {
    const typo = await boot({ enabled: true, experiments: { gatewy: { fault: { rate: 1 } } } }).catch(
      (e: unknown) => e,
    );
    expect(typo).toBeInstanceOf(ResilienceConfigError);
    expect((typo as Error).message).toMatch(
      /"experiments.gatewy" = "gatewy".*names no configuration.*Did you mean "gateway"\?/,
    );
    await expect(
      boot({ enabled: true, experiments: { 'PaymentsClient.chrage': { fault: { rate: 1 } } } }),
    ).rejects.toThrow(/Did you mean "PaymentsClient.charge"\?/);
    // Disabled chaos is checked all the same: the typo would surface only on the day it is switched on.
    await expect(boot({ enabled: false, experiments: { gatewy: { fault: { rate: 1 } } } })).rejects.toThrow(
      /names no configuration/,
    );
    // A target, a configuration and a ResilienceService pipeline (built after bootstrap) are all accepted.
    const { client } = await boot({
      enabled: true,
      experiments: {
        'PaymentsClient.charge': { fault: { rate: 1 } },
        gateway: { fault: { rate: 0 } },
        'ResilienceService.later': { fault: { rate: 1 } },
      },
    });
    await expect(client.charge('acme')).rejects.toBeInstanceOf(ChaosFaultError);
  });

  it('pause() stops injections on the next call, resume() brings them back', async () => {
    const { client, registry, events } = await boot({
      enabled: true,
      experiments: { gateway: { fault: { rate: 1 } } },
    });
    registry.chaos.pause();
    expect(await client.charge('acme')).toBe('charged acme');
    expect(injections(events)).toEqual([]);
    registry.chaos.resume();
    await expect(client.charge('acme')).rejects.toBeInstanceOf(ChaosFaultError);
  });

  it('enabledWhen picks the calls (a tenant), with the method arguments on services', async () => {
    const { client } = await boot({
      enabled: true,
      experiments: { gateway: { fault: { rate: 1 }, enabledWhen: (tenant: string) => tenant === 'canary' } },
    });
    expect(await client.charge('acme')).toBe('charged acme');
    await expect(client.charge('canary')).rejects.toBeInstanceOf(ChaosFaultError);
  });

  it('caps injections per minute, then lets calls through until the next minute', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { resilience, events } = await boot({
      enabled: true,
      maxInjectionsPerMinute: 2,
      experiments: { 'ResilienceService.capped': { outcome: { rate: 1, value: () => 'injected' } } },
    });
    const pipeline = resilience.pipeline({ name: 'capped', timeout: 1_000 });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await pipeline.execute(() => 'real'));
    expect(answers).toEqual(['injected', 'injected', 'real', 'real']);
    vi.advanceTimersByTime(60_000);
    expect(await pipeline.execute(() => 'real')).toBe('injected');
    expect(injections(events)).toHaveLength(3);
  });

  it('refuses a rate outside 0..1 and an unknown injection option, naming them', async () => {
    await expect(boot({ enabled: true, experiments: { gateway: { fault: { rate: 10 } } } })).rejects.toThrow(
      /"fault.rate" = 10 .*probability from 0 to 1/,
    );
    await expect(
      boot({ enabled: true, experiments: { gateway: { latency: { rate: 0.1, dealy: 5 } as never } } }),
    ).rejects.toThrow(/Unknown chaos latency option "dealy".*did you mean "delay"/i);
    const { registry } = await boot({ enabled: true, experiments: { gateway: { fault: { rate: 0 } } } });
    expect(() => registry.chaos.set('gateway', { fault: -1 })).toThrow(ResilienceConfigError);
  });
});

describe('chaos: seeded rates hold statistically', () => {
  const experiment = { enabled: true, seed: 42, experiments: { 'ResilienceService.draws': { fault: { rate: 0.2 } } } };

  async function draw(chaos: ChaosOptions): Promise<boolean[]> {
    const { resilience } = await boot(chaos);
    const pipeline = resilience.pipeline({ name: 'draws', timeout: 1_000 });
    const faults: boolean[] = [];
    for (let i = 0; i < 2_000; i++) {
      faults.push(await pipeline.execute(() => false).catch(() => true));
    }
    return faults;
  }

  it('injects into about rate x calls, and the same seed draws the same calls', async () => {
    const first = await draw(experiment);
    const injected = first.filter(Boolean).length;
    // 2,000 draws at p = 0.2: the mean is 400, three standard deviations are about 54.
    expect(injected).toBeGreaterThan(400 - 54);
    expect(injected).toBeLessThan(400 + 54);
    expect(await draw(experiment)).toEqual(first);
    expect(await draw({ ...experiment, seed: 7 })).not.toEqual(first);
  });
});

describe.each(PLATFORMS)('chaos on an HTTP handler (%s)', (platform) => {
  @Controller('quotes')
  class QuotesController {
    @Timeout(1_000)
    @Get()
    quote(): { price: number } {
      return { price: 42 };
    }
  }

  it('injects only into requests marked by enabledWhen(context), answered 503 CHAOS_FAULT', async () => {
    const enabledWhen = (context: ExecutionContext) =>
      context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-chaos'] === 'on';
    @Module({
      imports: [
        ResilienceModule.forRoot({
          chaos: { enabled: true, experiments: { 'QuotesController.quote': { fault: { rate: 1 }, enabledWhen } } },
        }),
      ],
      controllers: [QuotesController],
    })
    class AppModule {}
    const app = await createTestApp(platform, AppModule);
    apps.push(app);
    expect((await app.send('GET', '/quotes')).status).toBe(200);
    const injected = await app.sendWith('GET', '/quotes', { 'x-chaos': 'on' });
    expect(injected.status).toBe(503);
    expect(injected.body).toMatchObject({ code: 'CHAOS_FAULT', policy: 'QuotesController.quote' });
  });

  it('injected latency on a handler ends at its timeout: 504, and the delay is cancelled', async () => {
    @Controller('slow')
    class SlowController {
      @Timeout(100)
      @Get()
      slow(): { ok: true } {
        return { ok: true };
      }
    }
    @Module({
      imports: [
        ResilienceModule.forRoot({
          chaos: { enabled: true, experiments: { 'SlowController.slow': { latency: { rate: 1, delay: 60_000 } } } },
        }),
      ],
      controllers: [SlowController],
    })
    class AppModule {}
    const app = await createTestApp(platform, AppModule);
    apps.push(app);
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const cleared = vi.spyOn(globalThis, 'clearTimeout');
    try {
      expect((await app.send('GET', '/slow')).status).toBe(504);
      const delays = timers.mock.calls.flatMap((call, index) =>
        call[1] === 60_000 ? [timers.mock.results[index]] : [],
      );
      expect(delays).toHaveLength(1); // the injected minute
      // The timeout unsubscribed the delay, and the delay's timer was cleared with it (no minute-long timer left).
      await vi.waitFor(() => expect(cleared.mock.calls.map((call) => call[0])).toContain(delays[0]?.value));
    } finally {
      timers.mockRestore();
      cleared.mockRestore();
    }
  });
});
