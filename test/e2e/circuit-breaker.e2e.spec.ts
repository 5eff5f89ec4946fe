import { Controller, Get, HttpException, Injectable, Module, Param } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker, ResilienceModule, ResilienceRegistry, Retry } from '../../lib/index.js';
import { CircuitBreakerHealthIndicator } from '../../lib/health/index.js';
import { createTestApp, PLATFORMS, type TestApp } from './http-harness.js';

const downstream = { healthy: true, calls: 0 };

@Injectable()
class InventoryClient {
  @Retry({ maxAttempts: 3, initialDelay: 0 })
  @CircuitBreaker('inventory')
  async stock(sku: string): Promise<{ sku: string; stock: number }> {
    downstream.calls++;
    if (!downstream.healthy) throw new HttpException('inventory down', 502);
    return { sku, stock: 7 };
  }

  @CircuitBreaker('inventory')
  async reserve(sku: string): Promise<string> {
    downstream.calls++;
    return `reserved ${sku}`;
  }
}

@Controller()
class ShopController {
  constructor(
    private readonly inventory: InventoryClient,
    private readonly health: HealthCheckService,
    private readonly breakers: CircuitBreakerHealthIndicator,
  ) {}

  @Get('stock/:sku')
  stock(@Param('sku') sku: string) {
    return this.inventory.stock(sku);
  }

  @Get('reserve/:sku')
  reserve(@Param('sku') sku: string) {
    return this.inventory.reserve(sku);
  }

  @Get('recommendations')
  @CircuitBreaker({ consecutiveFailures: 1, openDuration: 5_000 })
  recommendations() {
    throw new HttpException('recommender down', 500);
  }

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.breakers.check('circuitBreakers')]);
  }
}

function appModule(critical: boolean) {
  @Module({
    imports: [
      ResilienceModule.forRoot({
        circuitBreakers: { inventory: { minimumCalls: 4, failureRateThreshold: 50, openDuration: 10_000, critical } },
      }),
      TerminusModule,
    ],
    controllers: [ShopController],
    providers: [InventoryClient, CircuitBreakerHealthIndicator],
  })
  class ShopModule {}
  return ShopModule;
}

describe.each(PLATFORMS)('circuit breakers over HTTP on %s', (platform) => {
  let testApp: TestApp;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-24T10:00:00Z') });
    downstream.healthy = true;
    downstream.calls = 0;
  });
  afterEach(async () => {
    await testApp.close();
    vi.useRealTimers();
  });

  it('opens after repeated failures, answers 503 with Retry-After, turns /health degraded, recovers', async () => {
    testApp = await createTestApp(platform, appModule(false));
    expect((await testApp.send('GET', '/health')).body).toMatchObject({
      status: 'ok',
      info: { circuitBreakers: { status: 'up', breakers: { inventory: { state: 'closed', failureRate: 0 } } } },
    });

    downstream.healthy = false;
    // 3 attempts fail (3 of 3 < minimumCalls 4), the next call's first attempt is the 4th failure: open. Its
    // retries meet the open circuit, which is not retried.
    expect((await testApp.send('GET', '/stock/a1')).status).toBe(502);
    const rejected = await testApp.send('GET', '/stock/a1');
    expect(downstream.calls).toBe(4);
    expect(rejected.status).toBe(503);
    expect(rejected.headers['retry-after']).toBe('10');
    expect(rejected.body).toMatchObject({ statusCode: 503, code: 'BROKEN_CIRCUIT', policy: 'inventory' });

    // Another method naming the same configuration shares the open breaker.
    expect((await testApp.send('GET', '/reserve/a1')).status).toBe(503);
    expect(downstream.calls).toBe(4);

    const degraded = await testApp.send('GET', '/health');
    expect(degraded.status).toBe(200);
    expect(degraded.body).toMatchObject({
      status: 'degraded',
      details: {
        circuitBreakers: {
          status: 'degraded',
          breakers: { inventory: { state: 'open', status: 'degraded', failureRate: 100, calls: 4 } },
        },
      },
    });

    downstream.healthy = true;
    vi.setSystemTime(Date.now() + 10_000);
    expect((await testApp.send('GET', '/health')).body).toMatchObject({
      details: { circuitBreakers: { breakers: { inventory: { state: 'half_open', status: 'degraded' } } } },
    });
    expect((await testApp.send('GET', '/stock/a1')).status).toBe(200); // the probe succeeds
    expect((await testApp.send('GET', '/health')).body).toMatchObject({
      status: 'ok',
      info: { circuitBreakers: { breakers: { inventory: { state: 'closed' } } } },
    });
  });

  it('reports an open critical breaker as down: /health answers 503', async () => {
    testApp = await createTestApp(platform, appModule(true));
    testApp.app.get(ResilienceRegistry).circuitBreakers.forceOpen('inventory');
    const answer = await testApp.send('GET', '/health');
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({
      status: 'error',
      error: { circuitBreakers: { status: 'down', breakers: { inventory: { state: 'forced_open', status: 'down' } } } },
    });
    testApp.app.get(ResilienceRegistry).circuitBreakers.reset('inventory');
    expect((await testApp.send('GET', '/health')).status).toBe(200);
  });

  it('opens a breaker on a controller handler, named Class.method', async () => {
    testApp = await createTestApp(platform, appModule(false));
    expect((await testApp.send('GET', '/recommendations')).status).toBe(500);
    const rejected = await testApp.send('GET', '/recommendations');
    expect(rejected.status).toBe(503);
    expect(rejected.headers['retry-after']).toBe('5');
    expect(rejected.body).toMatchObject({ policy: 'ShopController.recommendations' });
    expect(
      testApp.app
        .get(ResilienceRegistry)
        .circuitBreakers.list()
        .map((breaker) => breaker.name)
        .sort(),
    ).toEqual(['ShopController.recommendations', 'inventory']);
  });
});

describe('health checks declared with define()', () => {
  function healthModule(include: string[]) {
    @Controller()
    class HealthController {
      private readonly inventoryHealth;

      constructor(
        private readonly health: HealthCheckService,
        breakers: CircuitBreakerHealthIndicator,
      ) {
        this.inventoryHealth = breakers.define('inventory', { include });
      }

      @Get('health/inventory')
      @HealthCheck()
      check() {
        return this.health.check([this.inventoryHealth]);
      }
    }
    @Module({
      imports: [ResilienceModule.forRoot({ circuitBreakers: { inventory: {} } }), TerminusModule],
      controllers: [ShopController, HealthController],
      providers: [InventoryClient, CircuitBreakerHealthIndicator],
    })
    class HealthModule {}
    return HealthModule;
  }

  it('report only the included breakers', async () => {
    const testApp = await createTestApp('express', healthModule(['inventory']));
    const answer = await testApp.send('GET', '/health/inventory');
    expect(answer.status).toBe(200);
    expect(Object.keys((answer.body as { info: { inventory: { breakers: object } } }).info.inventory.breakers)).toEqual(
      ['inventory'],
    );
    await testApp.close();
  });

  it('stop the app at bootstrap when include names a breaker that does not exist', async () => {
    await expect(createTestApp('express', healthModule(['inventroy']))).rejects.toThrow(
      'The health check "inventory" includes "inventroy", which is not a circuit breaker of this application. ' +
        'Did you mean "inventory"?',
    );
  });
});
