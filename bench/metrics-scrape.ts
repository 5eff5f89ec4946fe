/**
 * What the Prometheus call duration histogram costs per call and per scrape, with N targets (two outcomes each, so
 * 2N label sets): nest-resilience's histogram (counted per target, read on scrape) beside a prom-client `Histogram`
 * fed by `observe()` through cached children (what the exporter did before), in one process.
 * Run: `npm run bench:scrape`. Prints Markdown and writes bench/results/metrics-scrape.md. BENCH_SMOKE=1: small
 * counts, nothing written.
 */
import { Histogram, Registry } from 'prom-client';
import { ResilienceEvents, ResilienceRegistry } from 'nest-resilience';
import { PrometheusMetrics } from 'nest-resilience/prometheus';
import { middleValue as median } from './support/measure.js';
import { writeResults } from './support/results.js';
import { smoke } from './support/smoke.js';

const NAME = 'nest_resilience_call_duration_seconds';
const HELP = 'Duration of calls to decorated methods, retries and fallback included, by outcome';
type Outcome = 'success' | 'failure';
const OUTCOMES: readonly Outcome[] = ['success', 'failure'];

/** One way of counting calls: a per-call function for target i, and the registry to scrape. */
interface Subject {
  readonly record: (target: number, outcome: Outcome, ms: number) => void;
  readonly registry: Registry;
}

function ours(targets: number): Subject {
  const registry = new Registry();
  const metrics = new PrometheusMetrics(new ResilienceRegistry(new ResilienceEvents()), registry);
  // What the measuring step calls per call once call metrics recorded it: the target's recorder, resolved once.
  const recorders = Array.from({ length: targets }, (_, i) => metrics.forTarget(`Service${i}.method`));
  return { registry, record: (target, outcome, ms) => recorders[target].recordCall(outcome, ms / 1000) };
}

function promClient(targets: number): Subject {
  const registry = new Registry();
  const histogram = new Histogram({ name: NAME, help: HELP, labelNames: ['target', 'outcome'], registers: [registry] });
  const children = Array.from({ length: targets }, (_, i) =>
    Object.fromEntries(OUTCOMES.map((outcome) => [outcome, histogram.labels(`Service${i}.method`, outcome)])),
  );
  return { registry, record: (target, outcome, ms) => children[target][outcome].observe(ms / 1000) };
}

const calls = smoke ? 1_000 : 400_000;
const scrapes = smoke ? 2 : 30;
const lines = [
  `Per call: ${calls.toLocaleString('en')} calls spread over the targets (median of 5 rounds). Per scrape: `,
  `\`registry.metrics()\` (median of ${scrapes}), every target with two outcomes seen. Same process, interleaved.`,
  '',
  '| targets | series | ns/call, ours | ns/call, prom-client observe | ms/scrape, ours | ms/scrape, prom-client |',
  '| ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const targets of smoke ? [10] : [10, 100, 1_000]) {
  const subjects = [ours(targets), promClient(targets)];
  const perCall: number[][] = [[], []];
  const perScrape: number[][] = [[], []];
  for (let round = 0; round < 7; round++) {
    for (const [index, subject] of subjects.entries()) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) subject.record(i % targets, OUTCOMES[(i >> 3) & 1], (i & 1023) / 10);
      if (round >= 2) perCall[index].push(Number(process.hrtime.bigint() - start) / calls);
    }
  }
  for (let scrape = 0; scrape < scrapes + 3; scrape++) {
    for (const [index, subject] of subjects.entries()) {
      const start = process.hrtime.bigint();
      await subject.registry.metrics();
      if (scrape >= 3) perScrape[index].push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  // The two must export the same lines, or the comparison means nothing.
  const [a, b] = await Promise.all(subjects.map((each) => each.registry.getSingleMetricAsString(NAME)));
  const sorted = (text: string) => text.split('\n').sort().join('\n');
  if (sorted(a) !== sorted(b)) throw new Error(`the two histograms differ with ${targets} targets`);
  const series = targets * OUTCOMES.length;
  lines.push(
    `| ${targets.toLocaleString('en')} | ${series.toLocaleString('en')} | ${median(perCall[0]).toFixed(0)} | ` +
      `${median(perCall[1]).toFixed(0)} | ${median(perScrape[0]).toFixed(2)} | ${median(perScrape[1]).toFixed(2)} |`,
  );
}
const report = lines.join('\n');
console.log(report);
if (!smoke) writeResults('metrics-scrape.md', report);
process.exit(0);
