import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResilienceConfigError } from '../../lib/core/errors/resilience-config.error.js';
import { ResilienceEvents } from '../../lib/core/events/resilience-events.js';
import { CALL_OUTCOMES } from '../../lib/core/metrics/call-outcome.js';
import { ResilienceRegistry } from '../../lib/core/registry/resilience-registry.js';
import {
  OpenTelemetryMetrics,
  ResilienceMetricProducer,
  type OpenTelemetryMetricsOptions,
  type ResilienceMetricProducerOptions,
} from '../../lib/opentelemetry/index.js';

const NAME = 'nest_resilience.call.duration';
/** Durations (seconds) that land in every bucket, on the boundaries, above the last one and below the first. */
const DURATIONS = [0.0001, 0.005, 0.0051, 0.01, 0.02, 0.049, 0.1, 0.3, 0.5, 0.75, 1, 2, 2.5, 4.9, 5, 9, 10, 10.5, 60];
const TARGETS = ['Orders.place', 'Payments.charge', 'ResilienceService.reports'];

/** An SDK with one reader that exports only when asked: what the exporter sees is what the reader collected. */
function sdk(temporality: AggregationTemporality, producer?: ResilienceMetricProducer, views = {}) {
  const exporter = new InMemoryMetricExporter(temporality);
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: 3_600_000,
    ...(producer ? { metricProducers: [producer] } : {}),
  });
  const provider = new MeterProvider({ readers: [reader], ...views });
  return {
    provider,
    /** The metrics of one collection, as the exporter received them. */
    async collect(): Promise<MetricData[]> {
      exporter.reset();
      await reader.forceFlush();
      return (exporter.getMetrics().at(0)?.scopeMetrics ?? [])
        .filter((scope) => scope.scope.name === 'nest-resilience')
        .flatMap((scope) => scope.metrics);
    },
  };
}

/** One application's exporter: the registry its targets record into, and the SDK it exports to. */
function exporterOf(temporality: AggregationTemporality, producer?: ResilienceMetricProducer, views = {}) {
  const resilience = new ResilienceRegistry(new ResilienceEvents());
  const otel = sdk(temporality, producer, views);
  const options: OpenTelemetryMetricsOptions = { meterProvider: otel.provider };
  if (producer) options.metricProducer = producer;
  const metrics = new OpenTelemetryMetrics(resilience, options);
  return {
    ...otel,
    metrics,
    /** One call, through the measuring step's path: the target's state, bound to the exporter once. */
    call: (target: string, outcome: (typeof CALL_OUTCOMES)[number], seconds: number) =>
      resilience.targets.targetFor(target).record(outcome, seconds * 1000),
  };
}

/** The call duration metric of a collection, with its points in a stable order and their times left out. */
function durationOf(metrics: MetricData[]) {
  const found = metrics.filter((metric) => metric.descriptor.name === NAME);
  if (found.length === 0) return undefined;
  expect(found).toHaveLength(1);
  const [metric] = found;
  const points = (metric.dataPoints as DataPoint<Histogram>[])
    .map(({ attributes, value }) => ({ attributes, value }))
    .sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)));
  return { ...metric, dataPoints: points };
}

const producerOf = (options: ResilienceMetricProducerOptions) => new ResilienceMetricProducer(options);

afterEach(() => {
  vi.useRealTimers();
});

describe.each([
  ['cumulative', AggregationTemporality.CUMULATIVE],
  ['delta', AggregationTemporality.DELTA],
] as const)('ResilienceMetricProducer, %s temporality', (_, temporality) => {
  it('exports what the synchronous histogram exports for the same calls, collection after collection', async () => {
    const synchronous = exporterOf(temporality);
    const produced = exporterOf(temporality, producerOf({ temporality }));
    // Rounds of calls between collections; the second leaves most series idle (delta exports none for them).
    const rounds = [DURATIONS, [0.02, 3], DURATIONS.slice(5), []];
    for (const [round, durations] of rounds.entries()) {
      for (const [index, seconds] of durations.entries()) {
        const target = TARGETS[(index + round) % TARGETS.length];
        const outcome = round === 1 ? 'timeout' : CALL_OUTCOMES[(Math.floor(index / 3) + round) % CALL_OUTCOMES.length];
        synchronous.call(target, outcome, seconds);
        produced.call(target, outcome, seconds);
      }
      const [expected, actual] = [durationOf(await synchronous.collect()), durationOf(await produced.collect())];
      expect(actual).toEqual(expected);
      if (round === 0) {
        expect(actual?.dataPoints.length).toBeGreaterThan(10);
        expect(actual?.dataPointType).toBe(DataPointType.HISTOGRAM);
        expect(actual?.aggregationTemporality).toBe(temporality);
      }
      // Cumulative keeps every series; delta exports nothing for a round without calls.
      if (round === 3) expect(actual === undefined).toBe(temporality === AggregationTemporality.DELTA);
    }
  });

  it('applies its boundaries as a View would apply them to the synchronous histogram', async () => {
    const boundaries = [0.001, 0.2, 3];
    const view = {
      views: [
        {
          instrumentName: NAME,
          aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries } },
        },
      ],
    };
    const synchronous = exporterOf(temporality, undefined, view);
    const produced = exporterOf(temporality, producerOf({ temporality, boundaries }));
    for (const seconds of DURATIONS) {
      synchronous.call('A.b', 'success', seconds);
      produced.call('A.b', 'success', seconds);
    }
    const [expected, actual] = [durationOf(await synchronous.collect()), durationOf(await produced.collect())];
    // The descriptor keeps the instrument's advice on the SDK's side (the View changed the buckets, not the advice).
    expect(actual?.dataPoints).toEqual(expected?.dataPoints);
    expect((actual?.dataPoints[0].value as Histogram).buckets.boundaries).toEqual(boundaries);
  });

  it('counts every call exactly once across collections taken between calls', async () => {
    const produced = exporterOf(temporality, producerOf({ temporality }));
    let seed = 23;
    const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    const collected: Histogram[] = [];
    const made: number[] = [];
    for (let step = 0; step < 400; step++) {
      if (random() < 0.1) {
        const metric = durationOf(await produced.collect());
        collected.push(...(metric?.dataPoints.map((point) => point.value) ?? []));
        continue;
      }
      const seconds = random() * 12;
      made.push(seconds);
      produced.call('Orders.place', 'success', seconds);
    }
    const last = durationOf(await produced.collect());
    collected.push(...(last?.dataPoints.map((point) => point.value) ?? []));
    // Delta: the points add up to the calls; cumulative: the last point is all of them.
    const total = temporality === AggregationTemporality.DELTA ? collected : [collected.at(-1)!];
    expect(total.reduce((sum, point) => sum + point.count, 0)).toBe(made.length);
    const counts = total.reduce(
      (sum, point) => sum.map((value, bucket) => value + point.buckets.counts[bucket]),
      new Array<number>(12).fill(0),
    );
    const expected = new Array<number>(12).fill(0);
    const boundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    for (const seconds of made) {
      const bucket = boundaries.findIndex((bound) => seconds <= bound);
      expected[bucket === -1 ? boundaries.length : bucket]++;
    }
    expect(counts).toEqual(expected);
    expect(Math.max(...total.map((point) => point.max!))).toBe(Math.max(...made));
  });

  it('starts each point where its interval began: the first call, or the last collection with delta', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-07T20:00:00.000Z') });
    const produced = exporterOf(temporality, producerOf({ temporality }));
    produced.call('A.b', 'success', 0.1);
    vi.setSystemTime(new Date('2026-12-07T20:00:10.250Z'));
    const first = (await produced.collect())[0].dataPoints[0];
    expect(first.startTime).toEqual([Date.parse('2026-12-07T20:00:00Z') / 1000, 0]);
    expect(first.endTime).toEqual([Date.parse('2026-12-07T20:00:10Z') / 1000, 250_000_000]);
    vi.setSystemTime(new Date('2026-12-07T20:00:20.000Z'));
    produced.call('A.b', 'success', 0.1);
    const second = (await produced.collect())[0].dataPoints[0];
    expect(second.startTime).toEqual(temporality === AggregationTemporality.DELTA ? first.endTime : first.startTime);
    expect(second.endTime).toEqual([Date.parse('2026-12-07T20:00:20Z') / 1000, 0]);
  });

  it('leaves the call duration off the meter: the reader exports it once', async () => {
    const produced = exporterOf(temporality, producerOf({ temporality }));
    produced.call('A.b', 'failure', 0.2);
    const names = (await produced.collect()).map((metric) => metric.descriptor.name);
    expect(names.filter((name) => name === NAME)).toHaveLength(1);
  });
});

describe('ResilienceMetricProducer wiring', () => {
  it('sends the calls of a target measured after bootstrap too', async () => {
    const producer = producerOf({});
    const produced = exporterOf(AggregationTemporality.CUMULATIVE, producer);
    produced.call('Orders.place', 'success', 0.1);
    await produced.collect();
    // A pipeline built later (ResilienceService.pipeline({ name })) gets its recorder when its target is created.
    produced.call('ResilienceService.late', 'fallback', 0.3);
    const metric = durationOf(await produced.collect());
    expect(metric?.dataPoints.map((point) => [point.attributes, point.value.count])).toEqual([
      [{ target: 'Orders.place', outcome: 'success' }, 1],
      [{ target: 'ResilienceService.late', outcome: 'fallback' }, 1],
    ]);
  });

  it('serves two readers when cumulative: a collection changes nothing another reader reads', async () => {
    const producer = producerOf({});
    const produced = exporterOf(AggregationTemporality.CUMULATIVE, producer);
    const second = sdk(AggregationTemporality.CUMULATIVE, producer);
    for (const seconds of DURATIONS) produced.call('A.b', 'success', seconds);
    const first = durationOf(await produced.collect());
    expect(durationOf(await second.collect())).toEqual(first);
    expect(durationOf(await produced.collect())).toEqual(first);
    expect(first?.dataPoints[0].value.count).toBe(DURATIONS.length);
  });

  it('refuses options that are not what it takes, naming the option, the value and its type', () => {
    const invalid: [unknown, RegExp][] = [
      [{ temporality: 'delta' }, /"temporality" = "delta".*AggregationTemporality.DELTA.*got the string "delta"/],
      [{ temporality: 2 }, /"temporality" = 2 .*got the number 2/],
      [{ boundaries: [0.1, 0.05] }, /"boundaries" = \[0.1, 0.05\].*increasing order.*got 0.05 after 0.1/],
      [{ boundaries: [0.1, Number.NaN] }, /"boundaries".*got the number NaN at index 1/],
      [{ boundaries: '0.1,1' }, /"boundaries".*got the string "0.1,1"/],
      [{ boundries: [1] }, /Unknown metric producer option "boundries".*Did you mean "boundaries"\?/s],
      [null, /"options" = null.*must be an object, got null/],
    ];
    for (const [options, message] of invalid) {
      const create = () => new ResilienceMetricProducer(options as ResilienceMetricProducerOptions);
      expect(create).toThrow(ResilienceConfigError);
      expect(create).toThrow(message);
    }
  });

  it('refuses a metricProducer that is not a ResilienceMetricProducer, and a misspelt option', () => {
    const resilience = new ResilienceRegistry(new ResilienceEvents());
    const { provider } = sdk(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(0) });
    const wrong: [unknown, RegExp][] = [
      [{ metricProducer: reader }, /"metricProducer".*must be a ResilienceMetricProducer.*\(PeriodicExportingMetric/],
      [{ metricProducer: { collect: () => undefined } }, /must be a ResilienceMetricProducer.*got an object/],
      [{ metricsProducer: producerOf({}) }, /Unknown OpenTelemetry option "metricsProducer".*"metricProducer"\?/s],
    ];
    for (const [options, message] of wrong) {
      const create = () =>
        new OpenTelemetryMetrics(resilience, { meterProvider: provider, ...(options as OpenTelemetryMetricsOptions) });
      expect(create).toThrow(ResilienceConfigError);
      expect(create).toThrow(message);
    }
  });
});
