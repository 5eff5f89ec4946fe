/**
 * The HTTP benchmark's ratios measured inside one server process: every variant that needs only our module is served
 * by the same process under its own prefix, and the loads on them interleave. A fresh process on this VM runs at one
 * of two speeds about 20% apart (see bench/README.md), which puts +-5% on any ratio of two processes; inside one
 * process the JIT, the heap layout and the core are the same for numerator and denominator (see `measureProcess` for
 * what it serves, and in which order). Each ratio is taken per process (median of its rounds), then the median over
 * the processes is reported with their lowest and highest.
 * Run: `npm run bench:http:same-process`. BENCH_PROCESSES (default 3) fresh processes per platform, BENCH_ROUNDS
 * (default 3) rounds in each, BENCH_SECONDS (default 3) per run, BENCH_PLATFORMS, BENCH_CONNECTIONS, BENCH_VARIANTS
 * (default: all of `SAME_PROCESS_VARIANTS`; the baselines a row is compared with must be among them); BENCH_OUT names
 * the results file (default results-http-same-process.md).
 * Floors: all six decorators are set against `minimal` (the least any interceptor-plus-guard design adds), the five
 * interceptor policies against `fused-stand-in` (the least their happy path could cost in one object), `@RateLimit`
 * against `ratelimit-stand-in` (a token bucket and the three headers in one guard function).
 */
import autocannon from 'autocannon';
import { writeResults } from './support/results.js';
import {
  connections,
  cpuMicros,
  enhancersOf,
  labels,
  load,
  pinned,
  platforms,
  POST_VARIANTS,
  rounds,
  seconds,
  start,
  version,
  warmupSeconds,
} from './support/http-harness.js';
import { SAME_PROCESS_VARIANTS } from './support/same-process-variants.js';
import { middleValue as median } from './support/measure.js';
import { setting } from './support/smoke.js';

const processes = setting('BENCH_PROCESSES', 3, 1);
const variants = process.env.BENCH_VARIANTS?.split(',') ?? SAME_PROCESS_VARIANTS;
for (const variant of variants) {
  if (!SAME_PROCESS_VARIANTS.includes(variant)) throw new Error(`${variant} is not served by the all-routes server`);
}
/**
 * The floor each row is compared with, beside the do-nothing enhancers: all six decorators against the six stand-ins
 * when they are in the run (issue 23's goal), else against the minimal design.
 */
const floorOf: Record<string, string> = {
  resilience: variants.includes('six-stand-ins') ? 'six-stand-ins' : 'minimal',
  'interceptor-policies': 'fused-stand-in',
  ratelimit: 'ratelimit-stand-in',
  'idempotent-memory': 'idempotent-stand-in',
};

interface Figures {
  requests: number;
  cpuPerRequest: number;
}

/**
 * One process: every variant warmed for a second, then `rounds` interleaved runs, in the order of `variants` in even
 * rounds and backwards in odd ones (so that no variant always runs right after the same one, or first). The process
 * serves only the variants measured (the others' code never runs, as in the fresh-process bench, so no row's call
 * sites are made polymorphic by rows that are not in the run), registered forwards in even processes and backwards
 * in odd ones: Express tries routes in order, so a later route pays for the misses before it. Returns each variant's
 * figures per round: a ratio is taken between runs of the same round, seconds apart.
 */
async function measureProcess(platform: string, index: number): Promise<Map<string, Figures[]>> {
  const routes = index % 2 === 0 ? variants : [...variants].reverse();
  const { child, port } = await start(platform, 'all-routes', routes);
  try {
    const url = (variant: string) => `http://127.0.0.1:${port}/${variant}/hello`;
    if (warmupSeconds > 0) {
      for (const variant of variants) await autocannon({ ...load(variant, url(variant)), duration: warmupSeconds });
    }
    const runs = new Map<string, Figures[]>(variants.map((variant) => [variant, []]));
    for (let round = 0; round < rounds; round++) {
      for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
        const before = cpuMicros(child.pid!);
        const result = await autocannon({ ...load(variant, url(variant)), duration: seconds });
        if (result.non2xx > 0) throw new Error(`${platform} ${variant}: ${result.non2xx} answers were not 2xx`);
        const figures = {
          requests: result.requests.average,
          cpuPerRequest: (cpuMicros(child.pid!) - before) / result.requests.total,
        };
        runs.get(variant)!.push(figures);
        console.error(
          `${platform} ${variant} round ${round + 1}: ${Math.round(figures.requests)} req/s, ` +
            `${figures.cpuPerRequest.toFixed(1)} us CPU/request`,
        );
      }
    }
    return runs;
  } finally {
    child.kill();
  }
}

/**
 * A row beside a base, per process: the median over its rounds of the round's ratio. `requests`: this row's req/s
 * over the base's; `cpu`: the base's CPU per request over this row's (both read "this row keeps x% of the base").
 */
function perProcessRatios(
  perProcess: Map<string, Figures[]>[],
  variant: string,
  base: string,
  figure: 'requests' | 'cpu',
): number[] {
  return perProcess.map((runs) => {
    const rows = runs.get(variant)!;
    const bases = runs.get(base)!;
    return median(
      rows.map((row, round) =>
        figure === 'requests' ? row.requests / bases[round].requests : bases[round].cpuPerRequest / row.cpuPerRequest,
      ),
    );
  });
}

/** The median over processes of a per-process ratio, with the lowest and highest: `95% (93-97%)`. */
function ratio(
  perProcess: Map<string, Figures[]>[],
  variant: string,
  base: string | undefined,
  figure: 'requests' | 'cpu' = 'requests',
): string {
  if (base === undefined || !variants.includes(base)) return '-';
  const values = perProcessRatios(perProcess, variant, base, figure);
  const percent = (value: number) => Math.round(value * 100);
  return `${percent(median(values))}% (${percent(Math.min(...values))}-${percent(Math.max(...values))}%)`;
}

/** A variant's figure in one process: the median over its rounds. */
const processMedian = (runs: Map<string, Figures[]>, variant: string, figure: keyof Figures) =>
  median(runs.get(variant)!.map((run) => run[figure]));

const lines = [
  `HTTP on loopback in one server process per platform run, Node ${process.version}, NestJS ` +
    `${version('@nestjs/core')}, autocannon ${connections} connections, ${processes} processes x ` +
    `${rounds} interleaved ${seconds} s runs per route` +
    (pinned ? ', server pinned to core 0 and autocannon to core 1 (taskset)' : ', not pinned') +
    '; each process serves only the routes measured, registered forwards in even processes and backwards in odd ' +
    'ones; rounds run the routes forwards and backwards in turn; each ratio taken between the runs of one round, its ' +
    'median over the rounds of a process, then the median over processes (lowest-highest). Server CPU per request is ' +
    "the server's threads' CPU time (/proc schedstat) over the requests of a run; 'CPU vs its floor' is the " +
    'floor\'s CPU per request over the row\'s (100% = the same cost). "bare" is our ' +
    'module imported with the route undecorated; POST rows are compared with the bare POST. Floors: all six ' +
    'decorators against ' +
    (floorOf.resilience === 'six-stand-ins'
      ? 'the six stand-ins (the five policies in one object and the rate-limit guard function on one route)'
      : 'the minimal design (one Observable, three constant headers)') +
    ', the five interceptor policies against their happy path done by one object, @RateLimit against a token ' +
    'bucket and three headers in one guard function, @Idempotent (memory) against the least it could cost inline ' +
    '(bench/stand-ins.ts).',
  '',
  '| platform | endpoint | req/s (median) | vs bare | vs do-nothing interceptor | vs same do-nothing enhancers | ' +
    'vs its floor | server CPU us/request | CPU vs its floor |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
/** Issue 23's goals, where both a row and its floor were measured: the row keeps at least this share of the floor. */
const GOALS: readonly { variant: string; floor: string; percent: number }[] = [
  { variant: 'resilience', floor: 'six-stand-ins', percent: 97 },
  { variant: 'idempotent-memory', floor: 'idempotent-stand-in', percent: 95 },
];
const goalLines: string[] = [];
for (const platform of platforms) {
  const perProcess: Map<string, Figures[]>[] = [];
  for (let index = 0; index < processes; index++) perProcess.push(await measureProcess(platform, index));
  for (const variant of variants) {
    const post = POST_VARIANTS.has(variant);
    const cells = [
      platform,
      labels[variant] ?? variant,
      Math.round(median(perProcess.map((runs) => processMedian(runs, variant, 'requests')))),
      ratio(perProcess, variant, post ? 'post-bare' : 'bare'),
      ratio(perProcess, variant, post ? 'post-noop-interceptor' : 'noop-interceptor'),
      ratio(perProcess, variant, enhancersOf[variant]),
      ratio(perProcess, variant, floorOf[variant]),
      median(perProcess.map((runs) => processMedian(runs, variant, 'cpuPerRequest'))).toFixed(1),
      ratio(perProcess, variant, floorOf[variant], 'cpu'),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  for (const goal of GOALS) {
    if (!variants.includes(goal.variant) || !variants.includes(goal.floor)) continue;
    goalLines.push(
      `- ${platform}, ${labels[goal.variant]} beside ${goal.floor} (goal >= ${goal.percent}% of its req/s): ` +
        `req/s ${ratio(perProcess, goal.variant, goal.floor)}, CPU per request ` +
        `${ratio(perProcess, goal.variant, goal.floor, 'cpu')}`,
    );
  }
}
if (goalLines.length > 0) lines.push('', 'Goals of issue 23 (median over processes, lowest-highest):', ...goalLines);
const report = lines.join('\n');
console.log(report);
writeResults(process.env.BENCH_OUT ?? 'http-same-process.md', report);
