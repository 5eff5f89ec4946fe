import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CALL_OUTCOMES, type CallOutcome } from '../../lib/core/metrics/call-outcome.js';
import { TargetMetrics } from '../../lib/core/metrics/target-metrics.js';
import { ResilienceEvents } from '../../lib/core/events/resilience-events.js';
import { ResilienceRegistry } from '../../lib/core/registry/resilience-registry.js';
import { PrometheusMetrics } from '../../lib/prometheus/index.js';

const NAME = 'nest_resilience_call_duration_seconds';

/** Durations (seconds) that land in every bucket, on the bounds, above the last one and below the first. */
const DURATIONS = [0.0001, 0.005, 0.0051, 0.01, 0.02, 0.049, 0.1, 0.3, 0.5, 0.75, 1, 2, 2.5, 4.9, 5, 9, 10, 10.5, 60];

/** prom-client's own histogram, fed by `observe` with the same label names: what the text must read. */
function reference(buckets?: number[]) {
  const registry = new Registry();
  const histogram = new Histogram({
    name: NAME,
    help: 'Duration of calls to decorated methods, retries and fallback included, by outcome',
    labelNames: ['target', 'outcome'],
    ...(buckets ? { buckets } : {}),
    registers: [registry],
  });
  return {
    registry,
    observe: (target: string, outcome: CallOutcome, s: number) => histogram.labels(target, outcome).observe(s),
  };
}

function ours(buckets?: number[]) {
  const resilience = new ResilienceRegistry(new ResilienceEvents());
  const registry = new Registry();
  const metrics = new PrometheusMetrics(resilience, registry, buckets ? { buckets } : {});
  return { resilience, registry, metrics };
}

describe('nest_resilience_call_duration_seconds (counted per target, read on scrape)', () => {
  it('writes the same lines as a prom-client Histogram fed the same calls', async () => {
    const expected = reference();
    const { resilience, registry } = ours();
    const targets = ['Orders.place', 'Payments.charge', 'partners "eu"\\n'];
    for (const [index, duration] of DURATIONS.entries()) {
      for (const [t, name] of targets.entries()) {
        const outcome = CALL_OUTCOMES[(index + t) % CALL_OUTCOMES.length];
        // Through the measuring step's path: the target's state, bound to the exporter once.
        resilience.targets.targetFor(name).record(outcome, duration * 1000);
        expected.observe(name, outcome, duration);
      }
    }
    const text = await registry.getSingleMetricAsString(NAME);
    expect(text).toContain(`${NAME}_count{target="Orders.place",outcome="success"}`);
    expect(sortedLines(text)).toEqual(sortedLines(await expected.registry.getSingleMetricAsString(NAME)));
    // The JSON of cluster aggregation too, in prom-client's order or not (series order means nothing to Prometheus).
    const json = async (from: Registry) => {
      const metric = (await from.getMetricsAsJSON()).find((each) => each.name === NAME)!;
      return {
        ...metric,
        values: metric.values
          .map((each) => JSON.stringify([each.labels, each.value, (each as { metricName?: string }).metricName]))
          .sort(),
      };
    };
    expect(await json(registry)).toEqual(await json(expected.registry));
  });

  it('uses the buckets given, and OpenMetrics text too', async () => {
    const buckets = [0.001, 0.2, 3];
    const expected = reference(buckets);
    const { resilience, registry } = ours(buckets);
    // prom-client types a registry by its content type; the same registries, switched to OpenMetrics.
    for (const each of [expected.registry, registry] as unknown as Registry<
      typeof Registry.OPENMETRICS_CONTENT_TYPE
    >[]) {
      each.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    }
    for (const duration of DURATIONS) {
      resilience.targets.targetFor('A.b').record('timeout', duration * 1000);
      expected.observe('A.b', 'timeout', duration);
    }
    const text = await registry.getSingleMetricAsString(NAME);
    expect(text).toContain(`${NAME}_bucket{le="0.2",target="A.b",outcome="timeout"} 7`);
    expect(text).toContain(`${NAME}_bucket{le="+Inf",target="A.b",outcome="timeout"} ${DURATIONS.length}`);
    expect(sortedLines(text)).toEqual(sortedLines(await expected.registry.getSingleMetricAsString(NAME)));
  });

  it('counts every call exactly once across scrapes taken between calls', async () => {
    const { resilience, registry } = ours();
    const target = resilience.targets.targetFor('Orders.place');
    let made = 0;
    for (let scrape = 0; scrape < 20; scrape++) {
      for (let call = 0; call <= scrape; call++, made++) target.record('success', (call % 7) * 3);
      const text = await registry.getSingleMetricAsString(NAME);
      expect(value(text, `${NAME}_count{target="Orders.place",outcome="success"}`)).toBe(made);
      expect(value(text, `${NAME}_bucket{le="+Inf",target="Orders.place",outcome="success"}`)).toBe(made);
    }
    // A scrape in flight reads what was counted when it started, and the next one everything since.
    const pending = registry.metrics();
    target.record('success', 1);
    expect(value(await pending, `${NAME}_count{target="Orders.place",outcome="success"}`)).toBe(made);
    expect(value(await registry.metrics(), `${NAME}_count{target="Orders.place",outcome="success"}`)).toBe(made + 1);
  });

  it('lists an outcome only once it happened, and resetMetrics() starts the counts again', async () => {
    const { resilience, registry } = ours();
    resilience.targets.targetFor('Orders.place').record('failure', 2);
    let text = await registry.getSingleMetricAsString(NAME);
    expect(text).toContain('outcome="failure"');
    expect(text).not.toContain('outcome="success"');
    registry.resetMetrics();
    text = await registry.getSingleMetricAsString(NAME);
    expect(value(text, `${NAME}_count{target="Orders.place",outcome="failure"}`)).toBe(0);
    resilience.targets.targetFor('Orders.place').record('failure', 2);
    text = await registry.getSingleMetricAsString(NAME);
    expect(value(text, `${NAME}_count{target="Orders.place",outcome="failure"}`)).toBe(1);
  });

  it('a recorder added after the targets were built receives their calls too, once', async () => {
    const targets = new TargetMetrics();
    const early = targets.targetFor('Early.call');
    const calls: string[] = [];
    const recorder = { recordCall: (target: string, outcome: CallOutcome) => calls.push(`${target} ${outcome}`) };
    targets.addRecorder(recorder);
    targets.addRecorder(recorder);
    early.record('success', 1);
    targets.targetFor('Late.call').record('rejected', 1);
    expect(calls).toEqual(['Early.call success', 'Late.call rejected']);
  });
});

function sortedLines(text: string): string[] {
  return text.split('\n').sort();
}

function value(text: string, series: string): number {
  const line = text.split('\n').find((each) => each.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no line ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}
