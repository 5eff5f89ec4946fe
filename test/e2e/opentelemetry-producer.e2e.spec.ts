import { Controller, Get, Module, Param } from '@nestjs/common';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RateLimit, ResilienceConfigError, ResilienceModule, ResilienceService } from '../../lib/index.js';
import {
  ResilienceMetricProducer,
  ResilienceOpenTelemetryModule,
  type OpenTelemetryMetricsOptions,
} from '../../lib/opentelemetry/index.js';
import { createTestApp, PLATFORMS, type TestApp } from './http-harness.js';
import { Gateway, SHOP_RESILIENCE_OPTIONS } from './metrics-shop.fixture.js';

@Controller()
class ShopController {
  constructor(
    private readonly gateway: Gateway,
    private readonly resilience: ResilienceService,
  ) {}

  @Get('charge/:ok')
  @RateLimit('api')
  charge(@Param('ok') ok: string) {
    return this.gateway.charge(ok === 'yes');
  }

  /** A pipeline built on the first request, after bootstrap: its target is measured from then on. */
  @Get('report')
  report() {
    return this.resilience.pipeline({ name: 'report', retry: { maxAttempts: 2 } }).execute(() => 'done');
  }
}

function appModule(options: OpenTelemetryMetricsOptions) {
  @Module({
    imports: [ResilienceModule.forRoot(SHOP_RESILIENCE_OPTIONS), ResilienceOpenTelemetryModule.forRoot(options)],
    controllers: [ShopController],
    providers: [Gateway],
  })
  class ShopModule {}
  return ShopModule;
}

/** The points of one instrument, as `attributes -> value` (histograms: their count). */
function points(metrics: MetricData[], name: string): Record<string, number> {
  const byAttributes: Record<string, number> = {};
  for (const metric of metrics.filter((each) => each.descriptor.name === name)) {
    for (const point of metric.dataPoints) {
      const value = point.value as number | { count: number };
      byAttributes[JSON.stringify(point.attributes)] = typeof value === 'number' ? value : value.count;
    }
  }
  return byAttributes;
}

describe.each(PLATFORMS)('OpenTelemetry call durations through a ResilienceMetricProducer on %s', (platform) => {
  let testApp: TestApp | undefined;
  let exporter: InMemoryMetricExporter;
  let reader: PeriodicExportingMetricReader;
  let provider: MeterProvider;
  let producer: ResilienceMetricProducer;

  beforeEach(() => {
    producer = new ResilienceMetricProducer();
    exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    reader = new PeriodicExportingMetricReader({
      exporter,
      exportIntervalMillis: 3_600_000,
      metricProducers: [producer],
    });
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
    return (exporter.getMetrics().at(0)?.scopeMetrics ?? [])
      .filter((scope) => scope.scope.name === 'nest-resilience')
      .flatMap((scope) => scope.metrics);
  }

  it('exports the call duration from the producer and the other instruments from the meter', async () => {
    testApp = await createTestApp(platform, appModule({ meterProvider: provider, metricProducer: producer }));
    expect((await testApp.send('GET', '/charge/yes')).status).toBe(200);
    expect((await testApp.send('GET', '/charge/no')).status).toBe(502);
    expect((await testApp.send('GET', '/charge/yes')).status).toBe(503);

    const metrics = await collect();
    expect(metrics.map((metric) => metric.descriptor.name).sort()).toEqual([
      'nest_resilience.bulkhead.active',
      'nest_resilience.bulkhead.queued',
      'nest_resilience.call.duration',
      'nest_resilience.circuit_breaker.state',
      'nest_resilience.events',
      'nest_resilience.rate_limit.decisions',
    ]);
    expect(points(metrics, 'nest_resilience.call.duration')).toEqual({
      '{"target":"Gateway.charge","outcome":"success"}': 1,
      '{"target":"Gateway.charge","outcome":"failure"}': 1,
      '{"target":"Gateway.charge","outcome":"short_circuited"}': 1,
    });
    expect(points(metrics, 'nest_resilience.events')).toMatchObject({
      '{"kind":"circuit_breaker","name":"gateway","event":"opened"}': 1,
    });
  });

  it('measures a pipeline built after bootstrap, and counts each call once across collections', async () => {
    testApp = await createTestApp(platform, appModule({ meterProvider: provider, metricProducer: producer }));
    expect(points(await collect(), 'nest_resilience.call.duration')).toEqual({});
    for (let call = 1; call <= 3; call++) {
      expect((await testApp.send('GET', '/report')).status).toBe(200);
      expect(points(await collect(), 'nest_resilience.call.duration')).toEqual({
        '{"target":"ResilienceService.report","outcome":"success"}': call,
      });
    }
  });

  it('still exports the calls after the application shut down, and a new one adds to the same series', async () => {
    testApp = await createTestApp(platform, appModule({ meterProvider: provider, metricProducer: producer }));
    expect((await testApp.send('GET', '/charge/yes')).status).toBe(200);
    await testApp.close();
    testApp = undefined;
    // The SDK's last flush (sdk.shutdown() after app.close()) loses no call; the registry is no longer observed.
    const afterClose = await collect();
    expect(points(afterClose, 'nest_resilience.call.duration')).toEqual({
      '{"target":"Gateway.charge","outcome":"success"}': 1,
    });
    expect(points(afterClose, 'nest_resilience.circuit_breaker.state')).toEqual({});

    testApp = await createTestApp(platform, appModule({ meterProvider: provider, metricProducer: producer }));
    expect((await testApp.send('GET', '/charge/yes')).status).toBe(200);
    const [metric] = (await collect()).filter((each) => each.descriptor.name === 'nest_resilience.call.duration');
    const [point] = metric.dataPoints as DataPoint<Histogram>[];
    expect(point.value.count).toBe(2);
    expect(metric.dataPoints).toHaveLength(1);
  });

  it('fails at startup when metricProducer is not a ResilienceMetricProducer', async () => {
    const wrong = { meterProvider: provider, metricProducer: reader } as unknown as OpenTelemetryMetricsOptions;
    const starting = createTestApp(platform, appModule(wrong));
    await expect(starting).rejects.toThrow(ResilienceConfigError);
    await expect(createTestApp(platform, appModule(wrong))).rejects.toThrow(
      /"metricProducer".*must be a ResilienceMetricProducer/,
    );
  });
});
