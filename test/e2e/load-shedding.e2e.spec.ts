import { Controller, Get, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  LoadShedderState,
  Priority,
  ResilienceEvents,
  ResilienceModule,
  SkipLoadShedding,
  type LoadSample,
  type ResilienceEvent,
  type ResilienceModuleOptions,
} from '../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from './http-harness.js';

const HEALTHY: LoadSample = { eventLoopDelay: 0, eventLoopUtilization: 0.2, heapUsed: 0.3 };

/** The load the app's sampler reports; the test sets it, then asks the shedder to sample. */
const load = { now: HEALTHY };
const sampler = { sample: () => load.now };

@Controller()
class ShopController {
  @Get('catalog')
  catalog() {
    return { items: 3 };
  }

  @Get('recommendations')
  @Priority('sheddable')
  recommendations() {
    return { items: [] };
  }

  @Get('checkout')
  @Priority('critical')
  checkout() {
    return { paid: true };
  }

  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Get('ready')
  @SkipLoadShedding()
  ready() {
    return { ready: true };
  }
}

@Controller('admin')
@Priority('critical')
class AdminController {
  @Get('stats')
  stats() {
    return { ok: true };
  }

  @Get('export')
  @Priority('sheddable')
  export() {
    return { ok: true };
  }
}

/** A Terminus health check, as its docs write it: nothing marks it for the guard but its path. */
@Controller('health')
class HealthController {
  constructor(private readonly health: HealthCheckService) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([]);
  }
}

@Controller()
class OpsController {
  @Get('metrics')
  metrics() {
    return 'requests_total 1';
  }

  @Get('internal/ping')
  ping() {
    return { pong: true };
  }
}

function appModule(options: ResilienceModuleOptions) {
  @Module({ imports: [ResilienceModule.forRoot(options)], controllers: [ShopController, AdminController] })
  class AppModule {}
  return AppModule;
}

const SHEDDING_OPTIONS = { sampler, eventLoopDelay: { soft: 50, hard: 150 }, criticalMargin: 0.5, retryAfter: 3_000 };
const SHEDDING: ResilienceModuleOptions = { loadShedding: SHEDDING_OPTIONS };

describe.each(PLATFORMS)('load shedding on %s', (platform) => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    load.now = HEALTHY;
  });

  /** Sets the load and has the shedder sample it, as its interval would. */
  function overload(eventLoopDelay: number) {
    load.now = { ...HEALTHY, eventLoopDelay };
    app!.app.get(LoadShedderState).sample();
  }

  /**
   * An overload that lasts: far past hard for 20 samples (10 s at the default interval), so the drop probability,
   * which rises by 0.075 a sample here, reaches 1 and every normal request is shed.
   */
  function sustainedOverload() {
    for (let i = 0; i < 20; i++) overload(300);
    expect(app!.app.get(LoadShedderState).dropProbability).toBe(1);
  }

  const statusOf = async (path: string) => (await app!.send('GET', path)).status;

  it('serves everything while the process is healthy', async () => {
    app = await createTestApp(platform, appModule(SHEDDING));
    overload(40);
    for (const path of ['/catalog', '/recommendations', '/checkout', '/admin/export']) {
      expect(await statusOf(path)).toBe(200);
    }
  });

  it('sheds sheddable requests first: all of them from the hard threshold on, at once', async () => {
    app = await createTestApp(platform, appModule(SHEDDING));
    overload(150);
    expect(await statusOf('/recommendations')).toBe(503);
    expect(await statusOf('/admin/export')).toBe(503); // the handler's priority wins over its class's
    expect(await statusOf('/checkout')).toBe(200);
    expect(await statusOf('/admin/stats')).toBe(200);
  });

  it('answers 503 with Retry-After and a JSON body naming the reason', async () => {
    app = await createTestApp(platform, appModule(SHEDDING));
    const events: ResilienceEvent[] = [];
    app.app.get(ResilienceEvents).subscribe((event) => events.push(event));
    sustainedOverload();
    const answer = await app.send('GET', '/catalog');
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('3');
    expect(answer.body).toMatchObject({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'LOAD_SHED',
      policy: 'loadShedding',
      reason: 'event-loop-delay',
    });
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'load-shed',
        priority: 'normal',
        target: { className: 'ShopController', methodName: 'catalog' },
      }),
    );
  });

  it('sheds critical requests only past hard plus the margin; health and exempt routes never', async () => {
    app = await createTestApp(platform, appModule(SHEDDING));
    overload(149);
    expect(await statusOf('/checkout')).toBe(200);
    overload(199);
    expect(await statusOf('/checkout')).toBe(200);
    overload(200);
    expect(await statusOf('/checkout')).toBe(503);
    overload(10_000);
    expect(await statusOf('/health')).toBe(200);
    expect(await statusOf('/health?verbose=1')).toBe(200);
    expect(await statusOf('/ready')).toBe(200);
    overload(0);
    expect(await statusOf('/checkout')).toBe(200);
    expect(app.app.get(LoadShedderState).snapshot()).toMatchObject({ level: 0, shed: { critical: 1 } });
  });

  it('admits every request again within five seconds of the overload ending (on the shedder timer)', async () => {
    // Only the shedder's interval and clock are faked: the server and its sockets run for real.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    try {
      app = await createTestApp(platform, appModule(SHEDDING));
      load.now = { ...HEALTHY, eventLoopDelay: 300 };
      vi.advanceTimersByTime(10_000);
      expect(await statusOf('/catalog')).toBe(503);
      load.now = { eventLoopDelay: 0, eventLoopUtilization: 0.05, heapUsed: 0.3 }; // the overload is over
      vi.advanceTimersByTime(1_000);
      // Two idle samples are not yet the end of it (0.96, then 0.68): one quiet moment proves nothing.
      expect(app.app.get(LoadShedderState).dropProbability).toBeGreaterThan(0.5);
      vi.advanceTimersByTime(4_000);
      const statuses = await Promise.all(Array.from({ length: 20 }, () => statusOf('/catalog')));
      expect(statuses).toEqual(Array.from({ length: 20 }, () => 200));
      expect(app.app.get(LoadShedderState).shedding).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('never sheds a Terminus /health route nor /metrics, under a global prefix too; marked paths neither', async () => {
    @Module({
      imports: [
        ResilienceModule.forRoot({
          loadShedding: { ...SHEDDING_OPTIONS, exemptPaths: ['/health', '/metrics', '/internal'] },
        }),
        TerminusModule,
      ],
      controllers: [AdminController, HealthController, OpsController],
    })
    class PrefixedModule {}
    app = await createTestApp(platform, PrefixedModule, (nest) => nest.setGlobalPrefix('api'));
    sustainedOverload();
    expect(await statusOf('/api/admin/export')).toBe(503);
    const health = await app.send('GET', '/api/health');
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await statusOf('/api/metrics')).toBe(200);
    expect(await statusOf('/api/internal/ping')).toBe(200);
  });

  it('registers a global guard when on', async () => {
    app = await createTestApp(platform, appModule(SHEDDING));
    const config = (app.app as unknown as { config: { getGlobalGuards(): unknown[] } }).config;
    expect(config.getGlobalGuards().filter(Boolean)).toHaveLength(1);
  });

  it('works with forRootAsync, whose options are known only at bootstrap', async () => {
    @Module({
      imports: [ResilienceModule.forRootAsync({ useFactory: () => Promise.resolve(SHEDDING) })],
      controllers: [ShopController],
    })
    class AsyncModule {}
    app = await createTestApp(platform, AsyncModule);
    sustainedOverload();
    expect(await statusOf('/catalog')).toBe(503);
  });

  it('registers no guard and no shedder when the option is off', async () => {
    app = await createTestApp(platform, appModule({}));
    expect(app.app.get(LoadShedderState)).toBeNull();
    // Nest's own list of global guards (what every route runs): nothing from us, so requests pay nothing.
    const config = (app.app as unknown as { config: { getGlobalGuards(): unknown[] } }).config;
    expect(config.getGlobalGuards().filter(Boolean)).toEqual([]);
    expect(await statusOf('/catalog')).toBe(200);
  });
});
