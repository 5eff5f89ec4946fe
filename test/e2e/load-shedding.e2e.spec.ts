import { Controller, Get, Module } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
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

function appModule(options: ResilienceModuleOptions) {
  @Module({ imports: [ResilienceModule.forRoot(options)], controllers: [ShopController, AdminController] })
  class AppModule {}
  return AppModule;
}

const SHEDDING: ResilienceModuleOptions = {
  loadShedding: { sampler, eventLoopDelay: { soft: 50, hard: 150 }, criticalMargin: 0.5, retryAfter: 3_000 },
};

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
