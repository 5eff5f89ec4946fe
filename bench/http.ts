/**
 * HTTP throughput and p99 latency of a Nest 12 endpoint on loopback, bare and guarded, on Express and Fastify.
 * Each variant's server runs in its own fresh process, all started before measuring; autocannon (in this process)
 * loads one at a time, in interleaved rounds (every variant once, then again), and each figure is the median of the
 * rounds, so a slow patch of the machine hits every variant alike. Run: `npm run bench:http`.
 * BENCH_SECONDS (default 3) is the duration of each run, BENCH_ROUNDS (default 3) the rounds, BENCH_CONNECTIONS
 * (default 50) the concurrency; BENCH_VARIANTS and BENCH_PLATFORMS pick rows; BENCH_OUT names the results file
 * (default results-http.md). POST variants send a JSON body and a new Idempotency-Key on every request; a
 * redis-server is started for `idempotent-redis`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { writeResults } from './results.js';
import { RedisServer } from '../test/support/redis-server.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const variants = (
  process.env.BENCH_VARIANTS ??
  'bare,module-only,noop-interceptor,noop-guard,noop-both,resilience,cockatiel,ratelimit,throttler,load-shedding'
).split(',');
const platforms = (process.env.BENCH_PLATFORMS ?? 'express,fastify').split(',');
const server = fileURLToPath(new URL('./http-server.js', import.meta.url));
const require = createRequire(import.meta.url);
const version = (name: string) => (require(`${name}/package.json`) as { version: string }).version;

const labels: Record<string, string> = {
  bare: 'bare',
  resilience: 'nest-resilience: all six decorators',
  cockatiel: `cockatiel ${version('cockatiel')}: same policies in an interceptor`,
  ratelimit: 'nest-resilience: @RateLimit',
  throttler: `@nestjs/throttler ${version('@nestjs/throttler')}: @Throttle`,
  'module-only': 'nest-resilience imported, route undecorated',
  'load-shedding': 'nest-resilience, loadShedding on, process healthy (vs peer: module-only)',
  'noop-interceptor': 'a do-nothing Nest interceptor',
  'noop-guard': 'a do-nothing Nest guard',
  'noop-both': 'a do-nothing interceptor and a do-nothing guard',
  'post-bare': 'POST, bare',
  'post-noop-interceptor': 'POST, a do-nothing Nest interceptor',
  'idempotent-memory': 'POST, nest-resilience: @Idempotent (memory), new key each request',
  'idempotent-redis': 'POST, nest-resilience: @Idempotent (Redis), new key each request',
};
/** POST variants: their baseline is the bare POST, not the bare GET. */
const POST_VARIANTS = new Set(['post-bare', 'post-noop-interceptor', 'idempotent-memory', 'idempotent-redis']);
/** The peer each of our rows is compared with. */
const peerOf: Record<string, string> = {
  resilience: 'cockatiel',
  ratelimit: 'throttler',
  'idempotent-memory': 'post-bare',
  'idempotent-redis': 'post-bare',
  'load-shedding': 'module-only',
};
/** Nest's own cost of the enhancers a row uses: the six decorators use one interceptor and one guard. */
const enhancersOf: Record<string, string> = {
  resilience: 'noop-both',
  ratelimit: 'noop-guard',
  cockatiel: 'noop-interceptor',
  'idempotent-memory': 'post-noop-interceptor',
  'idempotent-redis': 'post-noop-interceptor',
  'load-shedding': 'noop-guard',
};

/** autocannon options for a variant: POST variants send a payment and a fresh key per request. */
let keyCounter = 0;
const keyPrefix = Math.random().toString(36).slice(2);
function load(variant: string, url: string): autocannon.Options {
  if (!POST_VARIANTS.has(variant)) return { url, connections };
  return {
    url: url.replace(/\/hello$/, '/pay'),
    connections,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ amount: 42, currency: 'EUR' }),
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, 'idempotency-key': `${keyPrefix}-${++keyCounter}` },
        }),
      },
    ],
  };
}

const redis = variants.includes('idempotent-redis') ? await RedisServer.start() : undefined;
if (redis) process.env.REDIS_URL = redis.url;

function start(platform: string, variant: string, port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [server, platform, variant, String(port)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`${platform}/${variant} exited with ${code}`)));
  });
}

interface Row {
  platform: string;
  variant: string;
  requests: number;
  p99: number;
  non2xx: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const rows: Row[] = [];
let port = 3200;
for (const platform of platforms) {
  const servers = new Map<string, { child: ChildProcess; url: string }>();
  for (const variant of variants) {
    port++;
    servers.set(variant, { child: await start(platform, variant, port), url: `http://127.0.0.1:${port}/hello` });
  }
  for (const [variant, { url }] of servers) await autocannon({ ...load(variant, url), duration: 1 }); // warm-up
  const samples = new Map<string, { requests: number; p99: number; non2xx: number }[]>(
    variants.map((variant) => [variant, []]),
  );
  for (let round = 0; round < rounds; round++) {
    for (const [variant, { url }] of servers) {
      const result = await autocannon({ ...load(variant, url), duration: seconds });
      samples.get(variant)!.push({ requests: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx });
    }
  }
  for (const { child } of servers.values()) child.kill();
  for (const [variant, runs] of samples) {
    rows.push({
      platform,
      variant,
      requests: median(runs.map((run) => run.requests)),
      p99: median(runs.map((run) => run.p99)),
      non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
    });
  }
}

const percent = (value: number, base: number | undefined) => (base ? `${Math.round((value / base) * 100)}%` : '-');
const lines = [
  `HTTP on loopback, Node ${process.version}, NestJS ${version('@nestjs/core')}, autocannon ${connections} ` +
    `connections, median of ${rounds} interleaved ${seconds} s runs per row, each server in a fresh process`,
  '',
  '| platform | endpoint | req/s | vs bare | vs do-nothing interceptor | vs same do-nothing enhancers | vs peer | ' +
    'p99 ms | non-2xx |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const row of rows) {
  const find = (variant: string | undefined) =>
    rows.find((candidate) => candidate.platform === row.platform && candidate.variant === variant)?.requests;
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
    row.p99,
    row.non2xx,
  ];
  lines.push(`| ${cells.join(' | ')} |`);
}
const report = lines.join('\n');
console.log(report);
writeResults(process.env.BENCH_OUT ?? 'results-http.md', report);
await redis?.stop();
