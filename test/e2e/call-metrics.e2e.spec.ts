import { Controller, Get, HttpException, Injectable, Module, Param } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CircuitBreaker,
  Fallback,
  ResilienceModule,
  ResilienceRegistry,
  Retry,
  Timeout,
  type TargetSnapshot,
} from '../../lib/index.js';
import { CircuitBreakerHealthIndicator } from '../../lib/health/index.js';
import { createTestApp, PLATFORMS, type TestApp } from './http-harness.js';

@Injectable()
class Gateway {
  @Retry({ maxAttempts: 2, initialDelay: 0 })
  @CircuitBreaker({ consecutiveFailures: 2, openDuration: 60_000 })
  async charge(ok: boolean): Promise<string> {
    if (!ok) throw new HttpException('gateway down', 502);
    return 'charged';
  }

  @Fallback({ value: { quote: 'cached' } })
  @Timeout(20)
  async quote(delayMs: number): Promise<{ quote: string }> {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return { quote: 'fresh' };
  }

  @Timeout(20)
  async slow(): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return 'late';
  }
}

@Controller()
class ShopController {
  constructor(
    private readonly gateway: Gateway,
    private readonly health: HealthCheckService,
    private readonly breakers: CircuitBreakerHealthIndicator,
  ) {}

  @Get('charge/:ok')
  charge(@Param('ok') ok: string) {
    return this.gateway.charge(ok === 'yes');
  }

  @Get('quote/:delay')
  quote(@Param('delay') delay: string) {
    return this.gateway.quote(Number(delay));
  }

  @Get('slow')
  slow() {
    return this.gateway.slow();
  }

  @Get('greet')
  @Timeout(1_000)
  greet() {
    return { hello: 'world' };
  }

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.breakers.check('resilience')]);
  }
}

function appModule(metrics: boolean) {
  @Module({
    imports: [ResilienceModule.forRoot({ metrics }), TerminusModule],
    controllers: [ShopController],
    providers: [Gateway, CircuitBreakerHealthIndicator],
  })
  class ShopModule {}
  return ShopModule;
}

function target(app: TestApp, name: string): TargetSnapshot {
  return app.app.get(ResilienceRegistry).targets.get(name).snapshot();
}

describe.each(PLATFORMS)('call metrics on %s', (platform) => {
  let testApp: TestApp;
  afterEach(async () => {
    await testApp.close();
  });

  it('counts every outcome of a service call once, retries and fallback included', async () => {
    testApp = await createTestApp(platform, appModule(true));
    expect((await testApp.send('GET', '/charge/yes')).status).toBe(200);
    // Two attempts fail: one failure; the breaker is now open, so the next call is short-circuited.
    expect((await testApp.send('GET', '/charge/no')).status).toBe(502);
    expect((await testApp.send('GET', '/charge/yes')).status).toBe(503);
    expect((await testApp.send('GET', '/quote/0')).body).toEqual({ quote: 'fresh' });
    expect((await testApp.send('GET', '/quote/100')).body).toEqual({ quote: 'cached' });
    expect((await testApp.send('GET', '/slow')).status).toBe(504);

    expect(target(testApp, 'Gateway.charge').outcomes).toEqual({
      success: 1,
      failure: 1,
      timeout: 0,
      short_circuited: 1,
      rejected: 0,
      fallback: 0,
    });
    expect(target(testApp, 'Gateway.quote').outcomes).toMatchObject({ success: 1, fallback: 1, timeout: 0 });
    expect(target(testApp, 'Gateway.slow').outcomes).toMatchObject({ timeout: 1, success: 0 });
    // The fallback answered after the 20 ms timeout: what the caller waited is at least that.
    const quote = target(testApp, 'Gateway.quote');
    expect(quote.count).toBe(2);
    expect(quote.p99).toBeGreaterThanOrEqual(19);
    expect(quote.p50).toBeLessThan(quote.p99!);
  });

  it('measures handlers under the interceptor and shows the percentiles in /health', async () => {
    testApp = await createTestApp(platform, appModule(true));
    for (let i = 0; i < 5; i++) expect((await testApp.send('GET', '/greet')).status).toBe(200);
    expect(target(testApp, 'ShopController.greet')).toMatchObject({ count: 5, outcomes: { success: 5 } });
    const health = await testApp.send('GET', '/health');
    expect(health.body).toMatchObject({
      info: { resilience: { targets: { 'ShopController.greet': { count: 5 }, 'Gateway.charge': { count: 0 } } } },
    });
    // An idle target has no percentiles: null ("no data"), not 0 ms.
    const idle = (health.body as { info: { resilience: { targets: Record<string, unknown> } } }).info.resilience
      .targets['Gateway.charge'];
    expect(idle).toEqual({ count: 0, callsPerSecond: 0, p50: null, p95: null, p99: null });
    const greet = (health.body as { info: { resilience: { targets: Record<string, Record<string, number>> } } }).info
      .resilience.targets['ShopController.greet'];
    expect(Object.keys(greet).sort()).toEqual(['callsPerSecond', 'count', 'p50', 'p95', 'p99']);
  });

  it('measures nothing and lists no target when metrics are not enabled', async () => {
    testApp = await createTestApp(platform, appModule(false));
    expect((await testApp.send('GET', '/greet')).status).toBe(200);
    expect((await testApp.send('GET', '/charge/yes')).status).toBe(200);
    expect(testApp.app.get(ResilienceRegistry).targets.list()).toEqual([]);
    const health = await testApp.send('GET', '/health');
    expect(health.body).not.toHaveProperty('info.resilience.targets');
  });
});
