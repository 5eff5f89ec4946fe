import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { defer, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CircuitBreaker,
  ResilienceConfigError,
  ResilienceModule,
  ResilienceRegistry,
  ResilienceService,
  type ResilienceModuleOptions,
} from '../../lib/index.js';

@Injectable()
class DecoratedGateway {
  @CircuitBreaker('gateway')
  async charge(): Promise<string> {
    throw new Error('down');
  }
}

const apps: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function boot(options: ResilienceModuleOptions) {
  @Module({ imports: [ResilienceModule.forRoot(options)], providers: [DecoratedGateway] })
  class AppModule {}
  const app = await Test.createTestingModule({ imports: [AppModule] }).compile();
  await app.init();
  apps.push(app);
  return { resilience: app.get(ResilienceService), registry: app.get(ResilienceRegistry), app };
}

const MODULE_OPTIONS: ResilienceModuleOptions = {
  retries: { gateway: { maxAttempts: 3, initialDelay: 0 } },
  circuitBreakers: { gateway: { consecutiveFailures: 3, openDuration: 60_000 } },
};

describe('ResilienceService', () => {
  it("execute('gateway') applies every configuration called gateway, and tells the callback its attempt", async () => {
    const { resilience, registry } = await boot(MODULE_OPTIONS);
    const attempts: number[] = [];
    const answer = await resilience.execute('gateway', ({ attempt }) => {
      attempts.push(attempt);
      if (attempt < 3) throw new Error('flaky');
      return `ok after ${attempt}`;
    });
    expect(answer).toBe('ok after 3');
    expect(attempts).toEqual([1, 2, 3]);
    // The breaker called gateway counted every attempt: two failures and a success.
    expect(registry.circuitBreakers.get('gateway').snapshot()).toMatchObject({ calls: 3, failures: 2 });
  });

  it('shares a named breaker with the decorated methods that name it', async () => {
    const { resilience, registry, app } = await boot({ circuitBreakers: MODULE_OPTIONS.circuitBreakers });
    const gateway = app.get(DecoratedGateway);
    for (let i = 0; i < 3; i++) await gateway.charge().catch(() => undefined);
    let called = false;
    const error = await resilience
      .execute({ circuitBreaker: 'gateway' }, () => {
        called = true;
        return 'never';
      })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'BROKEN_CIRCUIT', policy: 'gateway' });
    expect(called).toBe(false);
    expect(registry.circuitBreakers.names()).toEqual(['gateway']);
  });

  it('runs Observables lazily: every subscription is a new call, retried by subscribing again', async () => {
    const { resilience } = await boot(MODULE_OPTIONS);
    let subscriptions = 0;
    const quote$ = resilience.pipeline({ retry: 'gateway' }).observe(() =>
      defer(() => {
        subscriptions++;
        return subscriptions < 2 ? Promise.reject(new Error('flaky')) : Promise.resolve(42);
      }),
    );
    expect(subscriptions).toBe(0);
    expect(await firstValueFrom(quote$)).toBe(42);
    expect(subscriptions).toBe(2);
  });

  it('refuses a name no configuration has, with did-you-mean', async () => {
    const { resilience } = await boot(MODULE_OPTIONS);
    await expect(resilience.execute('gateway ', () => 1)).rejects.toThrow(
      'no configuration is called "gateway " (did you mean "gateway"?)',
    );
  });

  it('refuses bad options when the pipeline is built, naming the option, the value and the pipeline', async () => {
    const { resilience } = await boot(MODULE_OPTIONS);
    expect(() => resilience.pipeline({ retyr: 'gateway' } as never)).toThrow(/Unknown pipeline option "retyr".*retry/);
    expect(() => resilience.pipeline({ name: 'quotes', retry: { maxAttempts: 0 } })).toThrow(
      /maxAttempts.*0.*ResilienceService\.quotes/,
    );
    expect(() => resilience.pipeline({ retry: 'gatewya' })).toThrow(ResilienceConfigError);
    expect(() => resilience.pipeline({ bulkhead: { maxConcurrent: 2 } })).toThrow(/"name".*is required/);
    expect(() => resilience.pipeline({ timeout: true } as never)).toThrow(/timeout.*got the boolean true/);
  });

  it('refuses inline options only handlers have (retryNonIdempotent, rate-limit headers), naming them', async () => {
    const { resilience } = await boot(MODULE_OPTIONS);
    expect(() => resilience.pipeline({ name: 'orders', retry: { retryNonIdempotent: true } as never })).toThrow(
      /"retry.retryNonIdempotent" = true for policy "ResilienceService.orders".*applies to handlers only/,
    );
    await expect(
      resilience.execute({ name: 'orders', rateLimit: { limit: 5, headers: false } as never }, () => 1),
    ).rejects.toThrow(/"rateLimit.headers" = false .*applies to handlers only/);
    expect(await resilience.execute({ name: 'orders', retry: { maxAttempts: 2 } }, () => 'ran')).toBe('ran');
  });
});
