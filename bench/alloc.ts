/**
 * Bytes allocated per call on the hot paths: each policy alone and the full pipeline, on the Promise and the
 * Observable path, and the handler interceptor and guard in-process. Each case runs in a fresh process with a young
 * generation large enough that no collection runs while it is measured (see support/allocation.ts), so the figure
 * does not depend on the machine's speed: `npm run test:alloc` holds each case to its budget in
 * test/alloc/budgets.json.
 *   npm run bench:alloc                                   -> every case, a table in bench/results/alloc.md
 *   node dist/bench/alloc.js --json                       -> every case as JSON { "<case>": bytesPerCall }
 *   node dist/bench/alloc.js --list                       -> the case ids as JSON
 *   node <ALLOCATION_NODE_FLAGS> dist/bench/alloc.js <case> -> one case in this process, as JSON
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ALLOCATION_NODE_FLAGS, bytesPerCall } from './support/allocation.js';
import { bootInterceptorCases, type InterceptorCaseName } from './support/interceptor-cases.js';
import { bootTarget, CASES } from './support/overhead-cases.js';
import { writeResults } from './support/results.js';
import { smoke } from './support/smoke.js';

/** The overhead benchmark's cases measured here, by a short id; each runs on both paths. */
const PIPELINE_CASES: Readonly<Record<string, string>> = {
  bare: 'bare',
  timeout: 'Timeout (no signal asked for)',
  retry: 'Retry',
  fallback: 'Fallback',
  'circuit-breaker': 'CircuitBreaker (closed)',
  'rate-limit': 'RateLimit (allowed, memory)',
  bulkhead: 'Bulkhead (free slot)',
  'retry-budget': 'Retry with a budget',
  'adaptive-bulkhead': 'Bulkhead adaptive (gradient2, under the limit)',
  hedge: 'Hedge (fixed 100 ms delay, answered before it)',
  full: 'full pipeline (Fallback+Retry+CircuitBreaker+RateLimit+Timeout+Bulkhead)',
  'full-metrics': 'full pipeline, call metrics on (registry percentiles)',
  'full-prometheus': 'full pipeline, metrics to prom-client',
  'full-opentelemetry': 'full pipeline, metrics to the OpenTelemetry SDK (metric producer)',
};
/** The in-process handler cases measured here (bench/interceptor.ts has them all). */
const HANDLER_CASES: readonly InterceptorCaseName[] = [
  'noop-interceptor',
  'resilience-all',
  'noop-guard',
  'ratelimit-guard',
  'post-noop-interceptor',
  'post-idempotent-memory',
];

/** Every case id: `promise:<id>` and `observable:<id>` for the pipeline cases, `handler:<name>` for the others. */
const ALLOCATION_CASES: readonly string[] = [
  ...Object.keys(PIPELINE_CASES).flatMap((id) => [`promise:${id}`, `observable:${id}`]),
  ...HANDLER_CASES.map((name) => `handler:${name}`),
];

/** Measures one case in this process. */
async function measureCase(id: string): Promise<number> {
  const [kind, name] = id.split(':') as [string, string];
  const options = smoke ? { calls: 200, rounds: 1, warmup: 200 } : {};
  if (kind === 'handler') {
    const { cases, close } = await bootInterceptorCases();
    const run = cases[name as InterceptorCaseName];
    if (run === undefined) throw new Error(`no handler case named "${name}"`);
    const bytes = await bytesPerCall(run, options);
    await close();
    return bytes;
  }
  const entry = CASES.find((candidate) => candidate.name === PIPELINE_CASES[name]);
  const make = entry?.[kind as 'promise' | 'observable'];
  if (!make) throw new Error(`no case "${id}"; the cases are: ${ALLOCATION_CASES.join(', ')}`);
  const { target, close } = await bootTarget(entry?.setup);
  const bytes = await bytesPerCall(make(target), options);
  await close();
  return bytes;
}

/** Measures one case in a fresh process with the flags it needs. */
function measureInChild(id: string): Promise<number> {
  const entry = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...ALLOCATION_NODE_FLAGS, entry, id], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`allocation case ${id} exited with ${code}`));
      else resolve((JSON.parse(output) as { bytesPerCall: number }).bytesPerCall);
    });
  });
}

const [argument] = process.argv.slice(2);
if (argument === '--list') {
  process.stdout.write(JSON.stringify(ALLOCATION_CASES));
  process.exit(0);
}
if (argument !== undefined && argument !== '--json') {
  process.stdout.write(JSON.stringify({ bytesPerCall: await measureCase(argument) }));
  process.exit(0);
}
const figures: Record<string, number> = {};
for (const id of ALLOCATION_CASES) figures[id] = await measureInChild(id);
if (argument === '--json') {
  process.stdout.write(JSON.stringify(figures));
} else {
  const bare = (id: string) => figures[id.startsWith('observable:') ? 'observable:bare' : 'promise:bare'];
  const lines = [
    `Bytes allocated per call, Node ${process.version}, smallest of 12 rounds of 4,000 calls without a collection, ` +
      'a fresh process per case',
    '',
    '| case | bytes/call | added beside the bare call |',
    '| --- | ---: | ---: |',
    ...ALLOCATION_CASES.map((id) => {
      const added = id.startsWith('handler:') ? '-' : (figures[id] - bare(id)).toFixed(0);
      return `| ${id} | ${figures[id].toFixed(0)} | ${added} |`;
    }),
  ];
  console.log(lines.join('\n'));
  if (!smoke) writeResults('alloc.md', lines.join('\n'));
}
