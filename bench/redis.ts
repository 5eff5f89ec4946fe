/**
 * Redis rate-limit checks on loopback: nest-resilience's RedisStore beside rate-limiter-flexible's RateLimiterRedis,
 * both on ioredis (ours sends the checks of one tick as one script call; rate-limiter-flexible's client
 * auto-pipelines), against a redis-server this script starts on a free port. Sequential (one check in flight) and
 * with 50 concurrent callers; checks per second and p50/p99 latency, median of interleaved rounds.
 * Run: `npm run bench:redis`. BENCH_CHECKS (default 20000) sets the checks per round.
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { RedisStore } from 'nest-resilience/redis';
import { RedisServer } from '../test/support/redis-server.js';
import { writeResults } from './support/results.js';
import { middleValue as median } from './support/measure.js';
import { setting, smoke } from './support/smoke.js';

const checks = setting('BENCH_CHECKS', 20_000, 200);
const rounds = smoke ? 1 : 5;
const require = createRequire(import.meta.url);
const version = (name: string) => (require(`${name}/package.json`) as { version: string }).version;

interface Contender {
  readonly name: string;
  /** One rate-limit check for `key` that is allowed (the limits are far above what the bench spends). */
  readonly check: (key: string) => Promise<unknown>;
}

interface Figures {
  perSecond: number;
  p50: number;
  p99: number;
}

/** Runs `checks` checks with `concurrency` callers in flight; latency of each check in microseconds. */
async function round(contender: Contender, concurrency: number): Promise<Figures> {
  const latencies = new Float64Array(checks);
  let next = 0;
  const caller = async (id: number) => {
    while (next < checks) {
      const index = next++;
      const started = process.hrtime.bigint();
      await contender.check(`user-${id}`);
      latencies[index] = Number(process.hrtime.bigint() - started) / 1000;
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, (_, id) => caller(id)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort();
  return {
    perSecond: checks / seconds,
    p50: latencies[Math.floor(checks * 0.5)],
    p99: latencies[Math.floor(checks * 0.99)],
  };
}

const server = await RedisServer.start();
const store = new RedisStore({ url: server.url, prefix: 'bench:' });
const bucket = { capacity: 1e12, refillPerMs: 1e9 };
const flexibleClient = new Redis(server.url, { enableAutoPipelining: true, enableOfflineQueue: false });
await once(flexibleClient, 'ready');
const flexible = new RateLimiterRedis({
  storeClient: flexibleClient,
  keyPrefix: 'bench-rlf',
  points: 1e9,
  duration: 60,
});

const contenders: Contender[] = [
  { name: `nest-resilience RedisStore`, check: (key) => store.consume(`limit:${key}`, bucket, 1, 0) },
  {
    name: `rate-limiter-flexible ${version('rate-limiter-flexible')} RateLimiterRedis`,
    check: (key) => flexible.consume(key),
  },
];

const lines = [
  `Redis ${(await flexibleClient.info('server')).match(/redis_version:(\S+)/)?.[1]} on loopback, ` +
    `Node ${process.version}, ioredis ${version('ioredis')} (the store's own client: the checks of one tick in one ` +
    `script call; rate-limiter-flexible's: auto-pipelining), ${checks} checks per round, ` +
    `median of ${rounds} interleaved rounds after a warm-up`,
  '',
  '| limiter | callers | checks/s | p50 µs | p99 µs |',
  '| --- | ---: | ---: | ---: | ---: |',
];
for (const concurrency of [1, 50]) {
  for (const contender of contenders) await round(contender, concurrency); // warm-up
  const samples = new Map<Contender, Figures[]>(contenders.map((contender) => [contender, []]));
  for (let i = 0; i < rounds; i++) {
    for (const contender of contenders) samples.get(contender)!.push(await round(contender, concurrency));
  }
  for (const [contender, figures] of samples) {
    const pick = (field: keyof Figures) => median(figures.map((entry) => entry[field]));
    const cells = [
      contender.name,
      concurrency,
      Math.round(pick('perSecond')),
      pick('p50').toFixed(0),
      pick('p99').toFixed(0),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
}

await store.close();
flexibleClient.disconnect();
await server.stop();
const report = lines.join('\n');
console.log(report);
writeResults('redis.md', report);
