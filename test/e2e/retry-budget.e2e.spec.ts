import { Controller, Get, HttpException, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ResilienceConfigError,
  ResilienceEvents,
  ResilienceModule,
  ResilienceRegistry,
  Retry,
  retryBudgetExhaustedOf,
  type ResilienceEvent,
  type ResilienceModuleOptions,
} from '../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from './http-harness.js';

/** A downstream that is down: every call fails with a 503. */
const downstream = { calls: 0 };

@Injectable()
class InventoryClient {
  @Retry({ maxAttempts: 5, initialDelay: 0, budget: 'inventory' })
  async stock(): Promise<number> {
    downstream.calls++;
    throw Object.assign(new Error('inventory down'), { status: 503 });
  }
}

@Controller()
class StockController {
  constructor(private readonly inventory: InventoryClient) {}

  @Get('stock')
  @Retry({ maxAttempts: 5, initialDelay: 0, budget: 'inventory' })
  stock() {
    downstream.calls++;
    throw new HttpException('inventory down', 503);
  }

  @Get('via-service')
  viaService() {
    return this.inventory.stock().catch((error: unknown) => ({ budget: retryBudgetExhaustedOf(error) }));
  }
}

const BUDGETS: ResilienceModuleOptions['retryBudgets'] = { inventory: { ratio: 0.5, minPerSecond: 0 } };

@Module({
  imports: [ResilienceModule.forRoot({ retryBudgets: BUDGETS })],
  controllers: [StockController],
  providers: [InventoryClient],
})
class AppModule {}

describe.each(PLATFORMS)('retry budgets on %s', (platform) => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    downstream.calls = 0;
  });

  it('handlers and services naming one budget share it, and the registry lists it', async () => {
    app = await createTestApp(platform, AppModule);
    const events: ResilienceEvent[] = [];
    app.app.get(ResilienceEvents).subscribe((event) => events.push(event));
    // Four requests earn two retries (ratio 0.5), spent as soon as earned (2nd and 4th request); then it is empty.
    for (let request = 0; request < 4; request++) expect((await app.send('GET', '/stock')).status).toBe(503);
    expect(downstream.calls).toBe(6);
    expect(await app.send('GET', '/via-service')).toMatchObject({ status: 200, body: { budget: 'inventory' } });
    expect(downstream.calls).toBe(7);
    expect(app.app.get(ResilienceRegistry).retryBudgets.list()).toEqual([
      expect.objectContaining({ name: 'inventory', ratio: 0.5, minPerSecond: 0, window: 10_000, calls: 5 }),
    ]);
    expect(events.filter((event) => event.type === 'retry-budget-exhausted')).toHaveLength(5);
  });
});

describe('retry budgets at bootstrap', () => {
  async function bootstrapError(options: ResilienceModuleOptions, provider?: new () => unknown) {
    @Module({ imports: [ResilienceModule.forRoot(options)], providers: provider ? [provider] : [] })
    class BudgetModule {}
    try {
      const moduleRef = await Test.createTestingModule({ imports: [BudgetModule] }).compile();
      await moduleRef.init();
      await moduleRef.close();
    } catch (error) {
      return error;
    }
    throw new Error('bootstrap succeeded');
  }

  it('refuses a budget that allows no retry, naming it', async () => {
    const error = await bootstrapError({ retryBudgets: { strict: { ratio: 0, minPerSecond: '0' as never } } });
    expect(error).toBeInstanceOf(ResilienceConfigError);
    expect((error as Error).message).toMatch(/retry budget option "ratio" = 0 for policy "strict".*no retry at all/);
  });

  it('refuses a window beyond the timer limit and a budget that is not an object', async () => {
    expect(((await bootstrapError({ retryBudgets: { slow: { window: 2 ** 31 } } })) as Error).message).toMatch(
      /"window" = 2147483648 for policy "slow".*at most 2147483647/,
    );
    expect(((await bootstrapError({ retryBudgets: { cheap: 0.2 as never } })) as Error).message).toMatch(
      /"retryBudgets.cheap" = 0.2 must be a retry budget options object/,
    );
  });

  it('refuses @Retry naming a budget that does not exist, with did-you-mean', async () => {
    @Injectable()
    class Gateway {
      @Retry({ budget: 'inventroy' })
      async call(): Promise<void> {}
    }
    const error = await bootstrapError({ retryBudgets: BUDGETS }, Gateway);
    expect((error as Error).message).toBe(
      'Invalid retry option "budget" = "inventroy" for policy "Gateway.call" (declared on Gateway.call): ' +
        `names no retry budget (did you mean 'inventory'?): ResilienceModule options "retryBudgets" has "inventory"`,
    );
  });
});
