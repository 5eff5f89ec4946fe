/**
 * Per-call overhead of nest-resilience's policies beside cockatiel and opossum, and how the cost grows with the
 * number of breakers and rate-limit keys. Every case runs in a fresh process (so no case's JIT state helps or hurts
 * another), BENCH_RUNS times (default 3) in interleaved order; each figure is the median of the runs, and inside a
 * run the median of 5 rounds of 100,000 sequential calls after 2 warm-up rounds. Run: `npm run bench`.
 * Prints Markdown and writes bench/results/overhead.md. BENCH_SMOKE=1: one process per setup, a few hundred calls per
 * case, the scaling rows at small counts, nothing written. BENCH_CASES=<text>: only the cases whose name contains it
 * (and `bare`), e.g. BENCH_CASES='full pipeline, ' for the three metrics rows; no scaling rows, nothing written.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CASES as ALL_CASES } from './support/overhead-cases.js';
import { writeResults } from './support/results.js';
import { middleValue as median } from './support/measure.js';
import { setting, smoke } from './support/smoke.js';

const runs = setting('BENCH_RUNS', 3, 1);
const only = process.env.BENCH_CASES;
const CASES =
  only === undefined ? ALL_CASES : ALL_CASES.filter((each) => each.name.startsWith('bare') || each.name.includes(only));
const caseScript = fileURLToPath(new URL('./support/overhead-case.js', import.meta.url));
const scalingScript = fileURLToPath(new URL('./support/scaling.js', import.meta.url));
const require = createRequire(import.meta.url);
const version = (name: string) => (require(`${name}/package.json`) as { version: string }).version;

function fresh<T>(script: string, args: string[], nodeArgs: string[] = []): T {
  return JSON.parse(execFileSync(process.execPath, [...nodeArgs, script, ...args], { encoding: 'utf8' })) as T;
}

type Shape = 'promise' | 'observable';
const samples = new Map<string, number[]>();
const key = (name: string, shape: Shape) => `${shape}:${name}`;
if (smoke) {
  for (const setup of new Set(CASES.map((entry) => entry.setup ?? 'plain'))) {
    const figures = fresh<Record<string, number>>(caseScript, ['--all', setup]);
    for (const [name, value] of Object.entries(figures)) samples.set(name, [value]);
  }
}
for (let run = 0; run < (smoke ? 0 : runs); run++) {
  for (const entry of CASES) {
    for (const shape of ['promise', 'observable'] as const) {
      if (!entry[shape]) continue;
      const { nsPerCall } = fresh<{ nsPerCall: number }>(caseScript, [entry.name, shape]);
      samples.set(key(entry.name, shape), [...(samples.get(key(entry.name, shape)) ?? []), nsPerCall]);
    }
  }
  process.stderr.write(`run ${run + 1}/${runs} done\n`);
}
const nsPerCall = (name: string, shape: Shape) => {
  const values = samples.get(key(name, shape));
  return values ? median(values) : undefined;
};

const fmt = (value: number | undefined, digits = 0) => (value === undefined ? '-' : value.toFixed(digits));
const lines = [
  `Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model.trim()}), ` +
    `NestJS ${version('@nestjs/core')}, cockatiel ${version('cockatiel')}, opossum ${version('opossum')}; ` +
    `median of ${runs} fresh processes per case`,
  '',
  'Overhead = ns/call minus the bare call (for an open breaker: minus a bare call that rejects, since Node charges',
  'any rejected Promise about as much). "x bare" = ns/call / bare ns/call. "vs peer" = our overhead / the peer\'s.',
  '',
  '| case | Promise ns/call | overhead ns | x bare | vs peer | Observable ns/call | overhead ns | x bare |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const entry of CASES) {
  const cells: string[] = [entry.name];
  for (const shape of ['promise', 'observable'] as const) {
    const value = nsPerCall(entry.name, shape);
    const bare = nsPerCall('bare', shape)!;
    const baseline = nsPerCall(entry.baseline, shape)!;
    const overhead = value === undefined || entry.name.startsWith('bare') ? undefined : value - baseline;
    cells.push(fmt(value), fmt(overhead), value === undefined ? '-' : `${(value / bare).toFixed(1)}x`);
    if (shape === 'promise') {
      const peer = entry.peer ? nsPerCall(entry.peer, 'promise') : undefined;
      cells.push(peer !== undefined && overhead !== undefined ? `${(overhead / (peer - bare)).toFixed(2)}x` : '-');
    }
  }
  lines.push(`| ${cells.join(' | ')} |`);
}

/** Overhead of a case beside its baseline, as in the table. */
const overheadOf = (name: string | undefined, shape: Shape) => {
  if (name === undefined) return undefined;
  const entry = CASES.find((candidate) => candidate.name === name);
  const value = nsPerCall(name, shape);
  const baseline = entry === undefined ? undefined : nsPerCall(entry.baseline, shape);
  return value === undefined || baseline === undefined ? undefined : value - baseline;
};
// Undefined when BENCH_CASES left the case out: its cells read `-`.
const caseNamed = (prefix: string) => CASES.find((entry) => entry.name.startsWith(prefix))?.name;
const full = caseNamed('full pipeline (');
const hedge = caseNamed('Hedge (fixed');
const fixedBulkhead = caseNamed('Bulkhead (free slot)');
const adaptiveBulkhead = caseNamed('Bulkhead adaptive');
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? '-' : `${(a / b).toFixed(2)}x`;
const beyond = (shape: Shape) => {
  const [adaptive, fixed] = [overheadOf(adaptiveBulkhead, shape), overheadOf(fixedBulkhead, shape)];
  return adaptive === undefined || fixed === undefined ? undefined : adaptive - fixed;
};
lines.push(
  '',
  'The goals of issue 23 (overhead ns per call, from the table above):',
  '',
  '| goal | Promise | Observable | target |',
  '| --- | ---: | ---: | --- |',
  `| full six-policy pipeline, added per call | ${fmt(overheadOf(full, 'promise'))} | ` +
    `${fmt(overheadOf(full, 'observable'))} | Promise <= 250 ns |`,
  `| full pipeline, Observable overhead / Promise overhead | - | ` +
    `${ratio(overheadOf(full, 'observable'), overheadOf(full, 'promise'))} | <= 1.2x |`,
  `| Hedge answered before its delay, added per call | ${fmt(overheadOf(hedge, 'promise'))} | ` +
    `${fmt(overheadOf(hedge, 'observable'))} | <= 300 ns |`,
  `| adaptive bulkhead (gradient2) beyond the fixed bulkhead | ${fmt(beyond('promise'))} | ` +
    `${fmt(beyond('observable'))} | <= 100 ns |`,
);
// Exporting metrics costs at most 1.5x the same pipeline with call metrics on (ns per call, not overhead).
const metricsOn = CASES.find((each) => each.setup === 'metrics')?.name;
// The OpenTelemetry goal is the metric producer's row; the synchronous histogram's is printed for information.
const exporters = ['prometheus', 'opentelemetry', 'opentelemetry-sync'];
for (const entry of CASES.filter((each) => exporters.includes(each.setup ?? 'plain'))) {
  const [promise, observable] = (['promise', 'observable'] as const).map((shape) =>
    ratio(nsPerCall(entry.name, shape), metricsOn === undefined ? undefined : nsPerCall(metricsOn, shape)),
  );
  const what = entry.name.replace('full pipeline, ', '');
  const target = entry.setup === 'opentelemetry-sync' ? 'none (for information)' : '<= 1.5x';
  lines.push(`| ${what}, ns/call / call metrics on | ${promise} | ${observable} | ${target} |`);
}
if (only !== undefined) {
  console.log(lines.join('\n'));
  process.exit(0);
}

lines.push(
  '',
  'Cost as the work grows (each row a fresh process; breakers: Promise calls spread round-robin over N named breakers,',
  'memory per idle breaker measured after a full GC; rate-limit keys: memory-store checks over N distinct keys):',
  '',
  '| work | ns/call | memory held |',
  '| --- | ---: | ---: |',
);
for (const count of smoke ? [100] : [1, 100, 10_000]) {
  const result = fresh<{ nsPerCall: number; bytesPerBreaker: number }>(
    scalingScript,
    ['breakers', String(count)],
    ['--expose-gc'],
  );
  // With one breaker the figure is mostly noise of the measurement itself.
  const memory = count >= 100 ? `${fmt(result.bytesPerBreaker)} bytes per idle breaker` : '-';
  lines.push(
    `| ${count.toLocaleString('en')} named breaker${count > 1 ? 's' : ''} | ${fmt(result.nsPerCall)} | ${memory} |`,
  );
}
const keyRows: readonly (readonly [number, number | undefined])[] = smoke
  ? [[1_000, 100]]
  : [
      [1, undefined],
      [1_000_000, undefined],
      [1_000_000, 1_000_000],
    ];
for (const [count, maxKeys] of keyRows) {
  const args = ['keys', String(count), ...(maxKeys ? [String(maxKeys)] : [])];
  const result = fresh<{ nsPerCall: number; bytesHeld: number; keysHeld: number }>(scalingScript, args, [
    '--expose-gc',
  ]);
  const keys = `${count.toLocaleString('en')} rate-limit key${count > 1 ? 's' : ''}`;
  const label = `${keys} (maxKeys ${(maxKeys ?? 100_000).toLocaleString('en')})`;
  const held = `${(result.bytesHeld / 2 ** 20).toFixed(1)} MiB for ${result.keysHeld.toLocaleString('en')} keys`;
  lines.push(`| ${label} | ${fmt(result.nsPerCall)} | ${held} |`);
}

const report = lines.join('\n');
console.log(report);
writeResults('overhead.md', report);
