import type { AddressInfo, Server } from 'node:net';
import { Controller, Get, Header, Module, Param } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { register, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { RateLimit, ResilienceModule, ResilienceRegistry } from '../../lib/index.js';
import { ResiliencePrometheusModule } from '../../lib/prometheus/index.js';
import { createTestApp, PLATFORMS, type TestApp } from './http-harness.js';
import { Gateway, SHOP_RESILIENCE_OPTIONS } from './metrics-shop.fixture.js';

const PROM = new Registry();

@Controller()
class ShopController {
  constructor(private readonly gateway: Gateway) {}

  @Get('charge/:ok')
  @RateLimit('api')
  charge(@Param('ok') ok: string) {
    return this.gateway.charge(ok === 'yes');
  }

  @Get('metrics')
  @Header('content-type', PROM.contentType)
  metrics() {
    return PROM.metrics();
  }
}

function appModule(registry?: Registry) {
  @Module({
    imports: [
      ResilienceModule.forRoot(SHOP_RESILIENCE_OPTIONS),
      ResiliencePrometheusModule.forRoot(registry ? { registry } : {}),
    ],
    controllers: [ShopController],
    providers: [Gateway],
  })
  class ShopModule {}
  return ShopModule;
}

/** The value of one sample line of the exposition, e.g. `metric{a="b"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((each) => each.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.each(PLATFORMS)('Prometheus metrics on %s', (platform) => {
  let testApp: TestApp | undefined;
  afterEach(async () => {
    await testApp?.close();
    testApp = undefined;
  });

  it('exposes the six instruments with their labels on /metrics, read from what the policies did', async () => {
    testApp = await createTestApp(platform, appModule(PROM));
    expect((await testApp.send('GET', '/charge/yes')).status).toBe(200);
    expect((await testApp.send('GET', '/charge/no')).status).toBe(502); // two failed attempts: the breaker opens
    expect((await testApp.send('GET', '/charge/yes')).status).toBe(503); // short-circuited
    expect((await testApp.send('GET', '/charge/yes')).status).toBe(503);
    expect((await testApp.send('GET', '/charge/yes')).status).toBe(429); // the fifth request of a limit of 4

    // Scraped as Prometheus does: a plain HTTP GET to a listening server.
    await testApp.app.listen(0, '127.0.0.1');
    const { port } = (testApp.app.getHttpServer() as Server).address() as AddressInfo;
    const answer = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/plain');
    const text = await answer.text();
    const duration = 'nest_resilience_call_duration_seconds_count';
    expect(sample(text, `${duration}{target="Gateway.charge",outcome="success"}`)).toBe(1);
    expect(sample(text, `${duration}{target="Gateway.charge",outcome="failure"}`)).toBe(1);
    expect(sample(text, `${duration}{target="Gateway.charge",outcome="short_circuited"}`)).toBe(2);
    expect(sample(text, 'nest_resilience_events_total{kind="retry",name="Gateway.charge",event="retry"}')).toBe(1);
    expect(sample(text, 'nest_resilience_events_total{kind="circuit_breaker",name="gateway",event="opened"}')).toBe(1);
    const state = 'nest_resilience_circuit_breaker_state';
    expect(sample(text, `${state}{name="gateway",state="open"}`)).toBe(1);
    expect(sample(text, `${state}{name="gateway",state="closed"}`)).toBe(0);
    expect(sample(text, 'nest_resilience_bulkhead_active{name="db"}')).toBe(0);
    expect(sample(text, 'nest_resilience_bulkhead_queued{name="db"}')).toBe(0);
    const decisions = 'nest_resilience_rate_limit_decisions_total';
    expect(sample(text, `${decisions}{name="api",decision="allowed"}`)).toBe(4);
    expect(sample(text, `${decisions}{name="api",decision="refused"}`)).toBe(1);

    // Only our instruments: never collectDefaultMetrics.
    const names = (await PROM.getMetricsAsJSON()).map((metric) => metric.name).sort();
    expect(names).toEqual([
      'nest_resilience_bulkhead_active',
      'nest_resilience_bulkhead_queued',
      'nest_resilience_call_duration_seconds',
      'nest_resilience_circuit_breaker_state',
      'nest_resilience_events_total',
      'nest_resilience_rate_limit_decisions_total',
    ]);
  });

  it('reads gauges on scrape: a bulkhead holding a call shows it, a breaker forced open shows it', async () => {
    testApp = await createTestApp(platform, appModule(PROM));
    let release!: () => void;
    const held = testApp.app.get(Gateway).hold(new Promise<void>((resolve) => (release = resolve)));
    expect(sample(await PROM.metrics(), 'nest_resilience_bulkhead_active{name="db"}')).toBe(1);
    release();
    await held;
    expect(sample(await PROM.metrics(), 'nest_resilience_bulkhead_active{name="db"}')).toBe(0);

    testApp.app.get(ResilienceRegistry).circuitBreakers.forceOpen('gateway');
    const text = await PROM.metrics();
    expect(sample(text, 'nest_resilience_circuit_breaker_state{name="gateway",state="forced_open"}')).toBe(1);
    expect(sample(text, 'nest_resilience_circuit_breaker_state{name="gateway",state="open"}')).toBe(0);
  });

  it("registers into prom-client's global registry by default and takes its instruments out at shutdown", async () => {
    for (let round = 0; round < 2; round++) {
      testApp = await createTestApp(platform, appModule());
      expect((await testApp.send('GET', '/charge/yes')).status).toBe(200);
      expect(await register.getSingleMetricAsString('nest_resilience_call_duration_seconds')).toContain(
        'nest_resilience_call_duration_seconds_count{target="Gateway.charge",outcome="success"} 1',
      );
      await testApp.close();
      testApp = undefined;
      expect(register.getSingleMetric('nest_resilience_call_duration_seconds')).toBeUndefined();
    }
  });

  it('refuses a registry that already holds the instruments, saying to give each application its own', async () => {
    testApp = await createTestApp(platform, appModule(PROM));
    await expect(createTestApp(platform, appModule(PROM))).rejects.toThrow(
      /already holds nest_resilience_call_duration_seconds: .*forRoot\(\{ registry: new Registry\(\) \}\)/,
    );
  });

  it('works with @willsoto/nestjs-prometheus: its /metrics serves our instruments (global registry)', async () => {
    @Module({
      imports: [
        ResilienceModule.forRoot({ circuitBreakers: { gateway: {} }, bulkheads: { db: {} } }),
        PrometheusModule.register({ defaultMetrics: { enabled: false } }),
        ResiliencePrometheusModule.forRoot(),
      ],
      providers: [Gateway],
    })
    class WillsotoModule {}
    testApp = await createTestApp(platform, WillsotoModule);
    await testApp.app.get(Gateway).charge(true);
    await testApp.app.listen(0, '127.0.0.1');
    const { port } = (testApp.app.getHttpServer() as Server).address() as AddressInfo;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const count = 'nest_resilience_call_duration_seconds_count{target="Gateway.charge",outcome="success"}';
    expect(sample(text, count)).toBe(1);
    expect(sample(text, 'nest_resilience_circuit_breaker_state{name="gateway",state="closed"}')).toBe(1);
  });
});
