/**
 * What `nest-resilience/http` costs on the happy path, beside a bare `fetch` and beside undici's own `RetryAgent`,
 * on loopback, in ONE client process against one upstream process (support/loopback-upstream.ts): rounds interleave
 * the cases, each round sends `BENCH_REQUESTS` requests with `BENCH_CONNECTIONS` in flight and reads every body, and
 * each figure is the median over the rounds, so a slow patch of the shared machine slows every case alike. The goal
 * (issue 24): the client's default pipeline at most 5% fewer requests per second than the bare fetch.
 * Run: `npm run bench:http-client`; writes bench/results/http-client.md.
 * BENCH_ROUNDS (default 9) measured rounds after 2 warm-up rounds, BENCH_REQUESTS (default 4000) per round,
 * BENCH_CONNECTIONS (default 50) requests in flight.
 *
 * A quick A/B while changing the client: BENCH_CASES=bare,get,fetch runs only those cases (ids below), and
 * BENCH_BASELINE=<another checkout, built> adds `get@baseline` and `fetch@baseline`, the same calls through that
 * build's client, interleaved in the same rounds (e.g. a copy of the build before a change, with node_modules reachable
 * from it). Without either, every case runs and the table is the one the goal is read from.
 *
 * Every case uses Node's own fetch (undici 6.24.1, bundled with Node 20); the RetryAgent is from the npm package
 * `undici` pinned to that same version (a devDependency: Node does not expose its bundled copy's RetryAgent), handed
 * to that fetch as its `dispatcher`.
 */
import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ResilienceEvents, ResilienceRegistry } from 'nest-resilience';
import { ResilientHttpClient } from 'nest-resilience/http';
import { middleValue as median } from './support/measure.js';
import { writeResults } from './support/results.js';
import { setting, smoke } from './support/smoke.js';

const rounds = setting('BENCH_ROUNDS', 9, 1);
const warmupRounds = smoke ? 0 : 2;
const requests = setting('BENCH_REQUESTS', 4000, 200);
const connections = setting('BENCH_CONNECTIONS', 50, 10);

const upstream = fork(fileURLToPath(new URL('./support/loopback-upstream.js', import.meta.url)), [], {
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const port = await new Promise<number>((resolve, reject) => {
  upstream.once('message', (message) => resolve((message as { port: number }).port));
  upstream.once('exit', (code) => reject(new Error(`the upstream exited with ${code} before listening`)));
});
const origin = `http://127.0.0.1:${port}`;
const url = `${origin}/charges/1`;

/** A client as `ResilientHttpModule.register` builds it, with its own registry and events (no Nest app needed). */
function clientOf(options: ConstructorParameters<typeof ResilientHttpClient>[0]): ResilientHttpClient {
  const events = new ResilienceEvents();
  return new ResilientHttpClient(options, new ResilienceRegistry(events), events);
}

const defaults = clientOf({ name: 'bench', baseUrl: origin });
const noTimeouts = clientOf({ name: 'bench-no-timeouts', baseUrl: origin, totalTimeout: false, attemptTimeout: false });
// The devDependency is loaded by a name the type checker does not follow (typed by @types/node's undici-types, the
// same API): a checkout whose node_modules predates it still type-checks, and only this script needs it installed.
const UNDICI = 'undici';
const { Agent, RetryAgent } = (await import(UNDICI)) as typeof import('undici-types');
// undici's RetryAgent with its defaults (5 retries on 500, 502, 503, 504, 429 and network errors, idempotent methods).
const retryAgent = new RetryAgent(new Agent());

interface Case {
  /** A short name for BENCH_CASES. */
  readonly id: string;
  readonly name: string;
  readonly says: string;
  readonly run: () => Promise<unknown>;
}

const ALL_CASES: Case[] = [
  {
    id: 'bare',
    name: 'bare fetch',
    says: 'Node fetch, body read: the floor',
    run: async () => (await fetch(url)).arrayBuffer(),
  },
  {
    id: 'retry-agent',
    name: 'fetch + undici RetryAgent',
    says: 'Node fetch through undici RetryAgent (retry only)',
    run: async () => (await fetch(url, { dispatcher: retryAgent })).arrayBuffer(),
  },
  {
    id: 'get',
    name: 'client.get, defaults',
    says: 'total + attempt timeouts, retry, breaker, bulkhead per origin; body read, HttpResponse',
    run: () => defaults.get('/charges/1'),
  },
  {
    id: 'fetch',
    name: 'client.fetch, defaults',
    says: 'the same pipeline as a WHATWG fetch (SDKs); body read by the caller',
    run: async () => (await defaults.fetch(url)).arrayBuffer(),
  },
  {
    id: 'get-no-timeouts',
    name: 'client.get, no timeouts',
    says: 'retry, breaker, bulkhead only: what the two timers per call cost',
    run: () => noTimeouts.get('/charges/1'),
  },
  {
    id: 'post',
    name: 'client.post, defaults',
    says: 'POST with a JSON body and an Idempotency-Key (a UUID per call)',
    run: () => defaults.post('/charges', { json: { amount: 100 } }),
  },
  {
    id: 'bare-post',
    name: 'bare fetch POST',
    says: 'Node fetch POST with the same JSON body and a key made by the caller',
    run: async () =>
      (
        await fetch(`${origin}/charges`, {
          method: 'POST',
          body: JSON.stringify({ amount: 100 }),
          headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
        })
      ).arrayBuffer(),
  },
];

const baselineRoot = process.env.BENCH_BASELINE;
if (baselineRoot !== undefined) {
  // The other build's own classes: its client with its own registry and events, beside this build's.
  const base = pathToFileURL(`${resolve(baselineRoot)}/dist/lib/`).href;
  const core = (await import(`${base}index.js`)) as typeof import('nest-resilience');
  const http = (await import(`${base}http/index.js`)) as typeof import('nest-resilience/http');
  const baseEvents = new core.ResilienceEvents();
  const baseline = new http.ResilientHttpClient(
    { name: 'bench-baseline', baseUrl: origin },
    new core.ResilienceRegistry(baseEvents),
    baseEvents,
  );
  ALL_CASES.push(
    {
      id: 'get@baseline',
      name: 'client.get, defaults @baseline',
      says: `client.get of the build in ${baselineRoot}`,
      run: () => baseline.get('/charges/1'),
    },
    {
      id: 'fetch@baseline',
      name: 'client.fetch, defaults @baseline',
      says: `client.fetch of the build in ${baselineRoot}`,
      run: async () => (await baseline.fetch(url)).arrayBuffer(),
    },
  );
}

const isPost = (entry: Case) => entry.id.includes('post');
/** BENCH_CASES (ids, comma-separated), with the bare fetch each chosen case is measured against. */
const wanted = process.env.BENCH_CASES?.split(',').map((id) => id.trim());
const chosen = (entry: Case) =>
  wanted!.includes(entry.id) || (entry.id.endsWith('@baseline') && wanted!.includes('baseline'));
const CASES =
  wanted === undefined
    ? ALL_CASES
    : ALL_CASES.filter(
        (entry) =>
          chosen(entry) ||
          (entry.id === 'bare' && ALL_CASES.some((each) => chosen(each) && !isPost(each))) ||
          (entry.id === 'bare-post' && ALL_CASES.some((each) => chosen(each) && isPost(each))),
      );

/**
 * One round: `requests` calls of `run`, `connections` of them in flight at any time. Its requests per second, and the
 * client process's CPU time per request (user + system): the upstream's share and other tenants' stalls are not in
 * it, so it moves less between runs than the rate does.
 */
async function round(run: () => Promise<unknown>): Promise<{ perSecond: number; cpuUs: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const worker = async () => {
    while (next < requests) {
      next++;
      await run();
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { perSecond: requests / (elapsedMs / 1000), cpuUs: (used.user + used.system) / requests };
}

/** Each case's rounds: its requests per second and its client CPU per request. */
const samples = new Map(CASES.map((entry) => [entry.id, { perSecond: [] as number[], cpuUs: [] as number[] }]));
try {
  for (let index = 0; index < warmupRounds + rounds; index++) {
    for (const entry of CASES) {
      const { perSecond, cpuUs } = await round(entry.run);
      if (index >= warmupRounds) {
        samples.get(entry.id)!.perSecond.push(perSecond);
        samples.get(entry.id)!.cpuUs.push(cpuUs);
      }
    }
  }
} finally {
  upstream.disconnect();
  await retryAgent.close();
}

/** The medians of one case's rounds. */
function mediansOf(id: string): { perSecond: number; cpuUs: number } {
  const { perSecond, cpuUs } = samples.get(id)!;
  return { perSecond: median(perSecond), cpuUs: median(cpuUs) };
}
const lines = [
  `Node ${process.version} (undici ${process.versions.undici}), one client process against one upstream process on ` +
    `127.0.0.1, ${rounds} interleaved rounds of ${requests} requests with ${connections} in flight after ` +
    `${warmupRounds} warm-up rounds, median req/s per case. Ratio: to the bare fetch of the same method (1.00 = as ` +
    "fast; the goal is at least 0.95 for the default pipeline). Client CPU: the client process's user + system time " +
    'per request (median over rounds); "CPU share kept" = bare fetch\'s CPU per request / the case\'s, what the ' +
    "rate would be if the client's CPU were all that limited it. The machine is shared: ratios only.",
  '',
  '| case | what it does | req/s | x bare fetch | client CPU us/request | CPU share kept |',
  '| --- | --- | ---: | ---: | ---: | ---: |',
];
for (const entry of CASES) {
  const { perSecond, cpuUs } = mediansOf(entry.id);
  const floor = mediansOf(isPost(entry) ? 'bare-post' : 'bare');
  lines.push(
    `| ${entry.name} | ${entry.says} | ${Math.round(perSecond)} | ${(perSecond / floor.perSecond).toFixed(2)} | ` +
      `${cpuUs.toFixed(1)} | ${(floor.cpuUs / cpuUs).toFixed(2)} |`,
  );
}
const report = lines.join('\n');
console.log(report);
// A chosen few cases or a baseline make an A/B, not the table the goal is read from.
if (wanted === undefined && baselineRoot === undefined) writeResults('http-client.md', report);
