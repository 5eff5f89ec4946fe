import { Controller, Get, Module, Param } from '@nestjs/common';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RateLimit, ResilienceModule, ResilienceRegistry } from '../../lib/index.js';
import { ResilienceOpenTelemetryModule } from '../../lib/opentelemetry/index.js';
import { createTestApp, PLATFORMS, type TestApp } from './http-harness.js';
import { Gateway, SHOP_RESILIENCE_OPTIONS } from './metrics-shop.fixture.js';

@Controller()
class ShopController {
  constructor(private readonly gateway: Gateway) {}

  @Get('charge/:ok')
  @RateLimit('api')
  charge(@Param('ok') ok: string) {
    return this.gateway.charge(ok === 'yes');
  }
}

function appModule(meterProvider: MeterProvider) {
  @Module({
    imports: [
      ResilienceModule.forRoot(SHOP_RESILIENCE_OPTIONS),
      ResilienceOpenTelemetryModule.forRoot({ meterProvider }),
    ],
    controllers: [ShopController],
    providers: [Gateway],
  })
  class ShopModule {}
  return ShopModule;
}

/** The points of one instrument, as `attributes -> value` (histograms: their count). */
function points(metrics: MetricData[], name: string): Record<string, number> {
  const metric = metrics.find((each) => each.descriptor.name === name);
  const byAttributes: Record<string, number> = {};
  for (const point of metric?.dataPoints ?? []) {
    const value = point.value as number | { count: number };
    byAttributes[JSON.stringify(point.attributes)] = typeof value === 'number' ? value : value.count;
  }
  return byAttributes;
}

describe.each(PLATFORMS)('OpenTelemetry metrics on %s', (platform) => {
  let testApp: TestApp | undefined;
  let exporter: InMemoryMetricExporter;
  let reader: PeriodicExportingMetricReader;
  let provider: MeterProvider;

  beforeEach(() => {
    exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    provider = new MeterProvider({ readers: [reader] });
  });
  afterEach(async () => {
    await testApp?.close();
    testApp = undefined;
    await provider.shutdown();
  });

  async function collect(): Promise<MetricData[]> {
    exporter.reset();
    await reader.forceFlush();
    const resourceMetrics = exporter.getMetrics().at(0); // none when nothing was observed
    const scope = resourceMetrics?.scopeMetrics.find((each) => each.scope.name === 'nest-resilience');
    return scope?.metrics ?? [];
  }

  it('reports the same instruments as Prometheus, with dotted names, on the nest-resilience meter', async () => {
    testApp = await createTestApp(platform, appModule(provider));
    expect((await testApp.send('GET', '/charge/yes')).status).toBe(200);
    expect((await testApp.send('GET', '/charge/no')).status).toBe(502);
    expect((await testApp.send('GET', '/charge/yes')).status).toBe(503);
    expect((await testApp.send('GET', '/charge/yes')).status).toBe(503);
    expect((await testApp.send('GET', '/charge/yes')).status).toBe(429);

    const metrics = await collect();
    expect(metrics.map((metric) => metric.descriptor.name).sort()).toEqual([
      'nest_resilience.bulkhead.active',
      'nest_resilience.bulkhead.queued',
      'nest_resilience.call.duration',
      'nest_resilience.circuit_breaker.state',
      'nest_resilience.events',
      'nest_resilience.rate_limit.decisions',
    ]);
    expect(metrics.find((metric) => metric.descriptor.name === 'nest_resilience.call.duration')?.descriptor.unit).toBe(
      's',
    );
    expect(points(metrics, 'nest_resilience.call.duration')).toEqual({
      '{"target":"Gateway.charge","outcome":"success"}': 1,
      '{"target":"Gateway.charge","outcome":"failure"}': 1,
      '{"target":"Gateway.charge","outcome":"short_circuited"}': 2,
    });
    expect(points(metrics, 'nest_resilience.events')).toEqual({
      '{"kind":"retry","name":"Gateway.charge","event":"retry"}': 1,
      '{"kind":"circuit_breaker","name":"gateway","event":"opened"}': 1,
    });
    expect(points(metrics, 'nest_resilience.circuit_breaker.state')).toMatchObject({
      '{"name":"gateway","state":"open"}': 1,
      '{"name":"gateway","state":"closed"}': 0,
    });
    expect(points(metrics, 'nest_resilience.bulkhead.active')).toEqual({ '{"name":"db"}': 0 });
    expect(points(metrics, 'nest_resilience.rate_limit.decisions')).toEqual({
      '{"name":"api","decision":"allowed"}': 4,
      '{"name":"api","decision":"refused"}': 1,
    });
  });

  it('observes the registry when the SDK collects: a breaker forced open reads as such', async () => {
    testApp = await createTestApp(platform, appModule(provider));
    testApp.app.get(ResilienceRegistry).circuitBreakers.forceOpen('gateway');
    expect(points(await collect(), 'nest_resilience.circuit_breaker.state')).toMatchObject({
      '{"name":"gateway","state":"forced_open"}': 1,
      '{"name":"gateway","state":"open"}': 0,
    });
  });

  it('stops observing once the application has shut down', async () => {
    testApp = await createTestApp(platform, appModule(provider));
    await testApp.close();
    testApp = undefined;
    expect(points(await collect(), 'nest_resilience.circuit_breaker.state')).toEqual({});
  });
});
