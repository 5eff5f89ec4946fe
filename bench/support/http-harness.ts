/**
 * What the HTTP benchmarks (fresh processes: http.ts; one process: http-same-process.ts) share: the rows' labels and
 * baselines, how a variant's server is started (pinned to its own core when it can be) and
 * loaded, and the server's CPU time read from /proc.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type autocannon from 'autocannon';
import { setting, smoke } from './smoke.js';

/** BENCH_CONNECTIONS (default 50; 5 in a smoke run): autocannon's concurrency. */
export const connections = setting('BENCH_CONNECTIONS', 50, 5);
/** BENCH_SECONDS (default 3; 0.2 in a smoke run): the length of each load run. */
export const seconds = setting('BENCH_SECONDS', 3, 0.2);
/** BENCH_ROUNDS (default 3; 1 in a smoke run): interleaved rounds over the variants. */
export const rounds = setting('BENCH_ROUNDS', 3, 1);
/** Seconds of load that warm a server before it is measured (none in a smoke run). */
export const warmupSeconds = smoke ? 0 : 1;
/** BENCH_PLATFORMS (default `express,fastify`): the HTTP platforms measured. */
export const platforms = (process.env.BENCH_PLATFORMS ?? 'express,fastify').split(',');
const server = fileURLToPath(new URL('./http-server.js', import.meta.url));
const require = createRequire(import.meta.url);
/** The installed version of a package. */
export const version = (name: string) => (require(`${name}/package.json`) as { version: string }).version;

export const labels: Record<string, string> = {
  bare: 'bare',
  resilience: 'nest-resilience: all six decorators',
  'interceptor-policies': 'nest-resilience: the five interceptor policies (no @RateLimit)',
  cockatiel: `cockatiel ${version('cockatiel')}: five policies (no rate limit) in an interceptor, via a Promise bridge`,
  'cockatiel-bridge': 'floor of the cockatiel row: its Promise bridge alone, no policy',
  ratelimit: 'nest-resilience: @RateLimit',
  'ratelimit-no-headers': 'nest-resilience: @RateLimit({ headers: false })',
  throttler: `@nestjs/throttler ${version('@nestjs/throttler')}: @Throttle`,
  'module-only': 'nest-resilience imported, route undecorated',
  'load-shedding': 'nest-resilience, loadShedding on, process healthy (vs peer: module-only)',
  'noop-interceptor': 'a do-nothing Nest interceptor',
  'noop-guard': 'a do-nothing Nest guard',
  'noop-both': 'a do-nothing interceptor and a do-nothing guard',
  minimal: 'floor: an interceptor adding one Observable, a guard setting three headers',
  'fused-stand-in': "stand-in: the five policies' happy path in one object (bench/stand-ins.ts)",
  'ratelimit-stand-in': 'stand-in: a token bucket and the three headers in one guard function (bench/stand-ins.ts)',
  'six-stand-ins':
    "stand-in: the five policies' object and the rate-limit guard function on one route (all six inline)",
  'post-bare': 'POST, bare',
  'post-noop-interceptor': 'POST, a do-nothing Nest interceptor',
  'idempotent-memory': 'POST, nest-resilience: @Idempotent (memory), new key each request',
  'idempotent-redis': 'POST, nest-resilience: @Idempotent (Redis), new key each request',
  'idempotent-stand-in': 'POST, stand-in: the least @Idempotent (memory) could cost, inline (bench/stand-ins.ts)',
};
/** The peer each of our rows is compared with. */
export const peerOf: Record<string, string> = {
  resilience: 'cockatiel',
  ratelimit: 'throttler',
  'ratelimit-no-headers': 'throttler',
  // @Idempotent has no peer here: the bare POST does no idempotency work (it is the 'vs bare' column already).
  'load-shedding': 'module-only',
};
/** Nest's own cost of the enhancers a row uses: the six decorators use one interceptor and one guard. */
export const enhancersOf: Record<string, string> = {
  resilience: 'noop-both',
  minimal: 'noop-both',
  'fused-stand-in': 'noop-interceptor',
  'ratelimit-stand-in': 'noop-guard',
  'six-stand-ins': 'noop-both',
  ratelimit: 'noop-guard',
  'ratelimit-no-headers': 'noop-guard',
  // Read beside its bridge alone: what cockatiel's five policies add once the Observable-Promise bridge is paid.
  cockatiel: 'cockatiel-bridge',
  'cockatiel-bridge': 'noop-interceptor',
  'interceptor-policies': 'noop-interceptor',
  'idempotent-memory': 'post-noop-interceptor',
  'idempotent-redis': 'post-noop-interceptor',
  'idempotent-stand-in': 'post-noop-interceptor',
  'load-shedding': 'noop-guard',
};

/** POST variants: their baseline is the bare POST, not the bare GET. */
export const POST_VARIANTS = new Set([
  'post-bare',
  'post-noop-interceptor',
  'idempotent-memory',
  'idempotent-redis',
  'idempotent-stand-in',
]);
/** autocannon options for a variant: POST variants send a payment and a fresh key per request. */
let keyCounter = 0;
const keyPrefix = Math.random().toString(36).slice(2);
export function load(variant: string, url: string): autocannon.Options {
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

/**
 * The server under test and the load generator on separate cores when `taskset` can pin them (BENCH_PIN=0 turns it
 * off): sharing cores, the load generator's own work lands on the server's measurements and rows spread by 20 points
 * from run to run; pinned, the server gets one whole core and each figure is its throughput on that core.
 */
export const pinned = process.env.BENCH_PIN !== '0' && availableParallelism() >= 2 && canPin();
function canPin(): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a server on a port the system picks (a fixed one may be taken); resolves with it and its port. `routes`: for
 * `all-routes`, the variants to serve, in the order their routes are registered (default: every one).
 */
export function start(
  platform: string,
  variant: string,
  routes?: readonly string[],
): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const [command, args] = pinned
      ? ['taskset', ['-c', '0', process.execPath, server, platform, variant, '0']]
      : [process.execPath, [server, platform, variant, '0']];
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: routes === undefined ? process.env : { ...process.env, BENCH_ROUTES: routes.join(',') },
    });
    child.stdout.on('data', (chunk: Buffer) => {
      const ready = /ready (\d+)/.exec(chunk.toString());
      if (ready) resolve({ child, port: Number(ready[1]) });
    });
    child.on('exit', (code) => reject(new Error(`${platform}/${variant} exited with ${code}`)));
  });
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;
/**
 * CPU time the server process has used, in microseconds: the sum of its threads' time on a CPU from
 * /proc/<pid>/task/<tid>/schedstat (nanoseconds: a short run's figure is not rounded to 10 ms ticks), or where the
 * kernel has no schedstat, user + system time from /proc/<pid>/stat (10 ms resolution). Deltas only: a thread that
 * ended takes its time with it, and Node's threads live as long as the process.
 */
export function cpuMicros(pid: number): number {
  if (!existsSync(`/proc/${pid}/schedstat`)) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  }
  let nanoseconds = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      nanoseconds += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return nanoseconds / 1000;
}
