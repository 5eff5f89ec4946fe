/**
 * HTTP throughput and p99 latency of a Nest 12 endpoint on loopback, bare and guarded, on Express and Fastify.
 * Every run starts a fresh server process for its variant (pinned to core 0 when `taskset` is there, the load
 * generator to core 1), warms it for a second, then loads it with autocannon (in this process); rounds interleave
 * the variants, and each figure is the median over the rounds, so neither one process's luck nor a slow patch of
 * the machine decides a row. Beside req/s, the server's CPU time per request (from /proc) is the cost that does not
 * depend on whether the load generator kept up. Run: `npm run bench:http`.
 * BENCH_SECONDS (default 3) is the duration of each run, BENCH_ROUNDS (default 3) the rounds, BENCH_CONNECTIONS
 * (default 50) the concurrency; BENCH_VARIANTS and BENCH_PLATFORMS pick rows; BENCH_OUT names the results file
 * (default results-http.md); BENCH_PIN=0 turns pinning off. POST variants send a JSON body and a new
 * Idempotency-Key on every request; a redis-server is started for `idempotent-redis`. */
import autocannon from 'autocannon';
import { writeResults } from './support/results.js';
import {
  connections,
  cpuMicros,
  enhancersOf,
  labels,
  load,
  peerOf,
  pinned,
  platforms,
  POST_VARIANTS,
  rounds,
  seconds,
  start,
  version,
  warmupSeconds,
} from './support/http-harness.js';
import { RedisServer } from '../test/support/redis-server.js';
import { middleValue as median } from './support/measure.js';
import { smoke } from './support/smoke.js';

const DEFAULT_VARIANTS =
  'bare,module-only,noop-interceptor,noop-guard,noop-both,resilience,cockatiel,cockatiel-bridge,ratelimit,' +
  'ratelimit-no-headers,throttler,load-shedding';
/**
 * A smoke run starts, each once and on one platform in turn, the variants that the same-process bench's smoke run
 * (which serves all the others from one process per platform) does not: between the two, every variant runs.
 */
const SMOKE_VARIANTS = 'bare,resilience,module-only,throttler,load-shedding,idempotent-redis,cockatiel-bridge';
const variants = (process.env.BENCH_VARIANTS ?? (smoke ? SMOKE_VARIANTS : DEFAULT_VARIANTS)).split(',');
const platformsOf = (variant: string) =>
  smoke && process.env.BENCH_PLATFORMS === undefined
    ? [platforms[variants.indexOf(variant) % platforms.length]]
    : platforms;

const redis = variants.includes('idempotent-redis') ? await RedisServer.start() : undefined;
if (redis) process.env.REDIS_URL = redis.url;

interface Row {
  platform: string;
  variant: string;
  requests: number;
  p99: number;
  non2xx: number;
  cpuPerRequest: number;
  /** The fastest process's req/s (see `bestOf`). */
  best: number;
}

const rows: Row[] = [];
/** One figure: a fresh server process for the variant, warmed up for a second, then loaded for `seconds`. */
async function measureOnce(platform: string, variant: string) {
  const { child, port } = await start(platform, variant);
  try {
    const url = `http://127.0.0.1:${port}/hello`;
    // warm-up: the JIT settles before we count
    if (warmupSeconds > 0) await autocannon({ ...load(variant, url), duration: warmupSeconds });
    const before = cpuMicros(child.pid!);
    const result = await autocannon({ ...load(variant, url), duration: seconds });
    const cpuUsed = cpuMicros(child.pid!) - before;
    return {
      requests: result.requests.average,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      cpuPerRequest: cpuUsed / result.requests.total,
    };
  } finally {
    child.kill();
  }
}

// Every round starts a new process per variant: two processes of the same server differ by up to 25% here (JIT and
// memory layout), so the median of several processes is the figure, and rounds interleave the variants so that a slow
// patch of the machine hits every variant alike.
for (const platform of platforms) {
  const measured = variants.filter((variant) => platformsOf(variant).includes(platform));
  const samples = new Map<string, { requests: number; p99: number; non2xx: number; cpuPerRequest: number }[]>(
    measured.map((variant) => [variant, []]),
  );
  for (let round = 0; round < rounds; round++) {
    for (const variant of measured) {
      const sample = await measureOnce(platform, variant);
      samples.get(variant)!.push(sample);
      const figures = `${Math.round(sample.requests)} req/s, ${sample.cpuPerRequest.toFixed(1)} us CPU/request`;
      console.error(`${platform} ${variant} round ${round + 1}: ${figures}`);
    }
  }
  for (const [variant, runs] of samples) {
    rows.push({
      platform,
      variant,
      requests: median(runs.map((run) => run.requests)),
      p99: median(runs.map((run) => run.p99)),
      non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
      cpuPerRequest: median(runs.map((run) => run.cpuPerRequest)),
      best: Math.max(...runs.map((run) => run.requests)),
    });
  }
}

const percent = (value: number, base: number | undefined) => (base ? `${Math.round((value / base) * 100)}%` : '-');
// Two kinds of process: on this VM a fresh server runs either about 20% faster or slower, the same code (Fastify
// bare: 54k or 67k req/s, nothing in between), so beside the median of the rounds, the best process of each row is
// compared too: with enough rounds every row has one of the fast kind, and those compare like with like.
const lines = [
  `HTTP on loopback, Node ${process.version}, NestJS ${version('@nestjs/core')}, autocannon ${connections} ` +
    `connections, ${rounds} interleaved ${seconds} s runs per row, each run a fresh server process` +
    (pinned ? ', servers pinned to core 0 and autocannon to core 1 (taskset)' : ', not pinned') +
    '; median and best process',
  '',
  '| platform | endpoint | req/s (median) | vs bare | vs do-nothing interceptor | vs same do-nothing enhancers | ' +
    'vs peer | req/s (best) | best vs bare | best vs do-nothing interceptor | best vs same do-nothing enhancers | ' +
    'server CPU us/request | p99 ms | non-2xx |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const row of rows) {
  const find = (variant: string | undefined, figure: 'requests' | 'best' = 'requests') =>
    rows.find((candidate) => candidate.platform === row.platform && candidate.variant === variant)?.[figure];
  const bare = POST_VARIANTS.has(row.variant) ? 'post-bare' : 'bare';
  const interceptor = POST_VARIANTS.has(row.variant) ? 'post-noop-interceptor' : 'noop-interceptor';
  const cells = [
    row.platform,
    labels[row.variant] ?? row.variant,
    Math.round(row.requests),
    percent(row.requests, find(bare)),
    percent(row.requests, find(interceptor)),
    percent(row.requests, find(enhancersOf[row.variant])),
    percent(row.requests, find(peerOf[row.variant])),
    Math.round(row.best),
    percent(row.best, find(bare, 'best')),
    percent(row.best, find(interceptor, 'best')),
    percent(row.best, find(enhancersOf[row.variant], 'best')),
    row.cpuPerRequest.toFixed(1),
    row.p99,
    row.non2xx,
  ];
  lines.push(`| ${cells.join(' | ')} |`);
}
const report = lines.join('\n');
console.log(report);
writeResults(process.env.BENCH_OUT ?? 'http.md', report);
await redis?.stop();
