/**
 * Goodput and p99 of a downstream with a knee under 1x, 2x and 4x its best throughput, with no protection, a fixed
 * bulkhead and the adaptive limits, in one process in real time (timers on loopback only, bounded: about a minute).
 * The downstream answers in 10 ms up to 20 calls in flight, then in 10 ms x (inflight / 20)^1.5, at most 2 s, and
 * ignores its callers' signals (a remote server goes on working on a request its client gave up); every row has the
 * same per-attempt `@Timeout` of 50 ms outside the bulkhead (the canonical order); a call is good when it succeeds
 * within 50 ms. Then the load-shedding rows (bench/overload-shedding.ts). Run: `npm run bench:overload`.
 * BENCH_SECONDS (default 3) per run; for the load-shedding rows BENCH_SHED_SECONDS (10) per run, BENCH_SHED_WARMUP (5)
 * not counted, BENCH_CAPACITY_SECONDS (5) for the closed-loop capacity run. Writes bench/results/overload.md.
 */
import { AdaptiveBulkheadPolicy } from '../lib/core/bulkhead/adaptive-bulkhead.policy.js';
import { BulkheadPolicy } from '../lib/core/bulkhead/bulkhead.policy.js';
import { BulkheadState } from '../lib/core/bulkhead/bulkhead.state.js';
import { validateBulkheadOptions, type BulkheadOptions } from '../lib/core/bulkhead/bulkhead.options.js';
import { TimeoutPolicy } from '../lib/core/timeout/timeout.policy.js';
import { OptionsValidator } from '../lib/core/validation/options.validator.js';
import { createResilientMethod } from '../lib/core/pipeline/resilient-method.js';
import type { ResiliencePolicy } from '../lib/core/pipeline/policy.interface.js';
import { ResilienceEvents } from 'nest-resilience';
import { DEFAULT_BULKHEAD_OPTIONS } from '../lib/core/bulkhead/bulkhead.options.js';
import { kneeDownstream, offerLoad } from './support/overload-model.js';
import { measureCapacity, SHEDDING_SETUP, sheddingRows } from './support/overload-shedding.js';
import { writeResults } from './support/results.js';
import { setting, smoke } from './support/smoke.js';

const KNEE = 20;
const BASE_LATENCY = 10;
const KNEE_RATE = (KNEE / BASE_LATENCY) * 1000;
const DEADLINE = 5 * BASE_LATENCY;
const seconds = setting('BENCH_SECONDS', 3, 0.3);
const warmupMs = smoke ? 100 : 1000;
/** Load as multiples of the downstream's best throughput; a smoke run tries one. */
const MULTIPLES = smoke ? [2] : [1, 2, 4];

const variants: Record<string, Partial<BulkheadOptions> | undefined> = {
  'no protection': undefined,
  'fixed bulkhead, maxConcurrent 100': { maxConcurrent: 100 },
  'fixed bulkhead at the knee (20, known in advance)': { maxConcurrent: KNEE },
  // minLimit 1: the default floor of gradient2 and aimd (Netflix's 20) is this model's knee, and would do the work.
  'adaptive gradient2 (minLimit 1)': { adaptive: { algorithm: 'gradient2', minLimit: 1 } },
  'adaptive vegas (defaults)': { adaptive: { algorithm: 'vegas' } },
  'adaptive aimd (minLimit 1)': { adaptive: { algorithm: 'aimd', minLimit: 1 } },
};

/** A p99 cell: '-' when no call succeeded (NaN), never 0. */
const milliseconds = (value: number) => (Number.isFinite(value) ? Math.round(value) : '-');

const lines = [
  `In-process simulation, Node ${process.version}: knee ${KNEE} calls in flight, ${BASE_LATENCY} ms up to the knee ` +
    `(best throughput ${KNEE_RATE} calls/s), per-attempt timeout and good = success within ${DEADLINE} ms; ` +
    `${seconds} s per run, the first ${warmupMs / 1000} s not counted`,
  '',
  // 1x is 100% of the best throughput (utilisation 1.0), not a normal load: any timer lateness tips it past the knee.
  '| protection | load (x best rate) | goodput/s | p99 ms (successes) | timed out | rejected | limit at the end |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
];
for (const [label, options] of Object.entries(variants)) {
  for (const multiple of MULTIPLES) {
    const downstream = kneeDownstream(KNEE, BASE_LATENCY, 2_000);
    const events = new ResilienceEvents();
    const policies: ResiliencePolicy[] = [new TimeoutPolicy('attempt', DEADLINE, 'attempt', events)];
    let bulkhead: BulkheadState | undefined;
    if (options !== undefined) {
      const validated = validateBulkheadOptions(
        { ...DEFAULT_BULKHEAD_OPTIONS, ...options },
        new OptionsValidator('bulkhead', 'downstream', 'Bench.call'),
      );
      bulkhead = new BulkheadState('downstream', validated, events);
      policies.push(bulkhead.adaptive ? new AdaptiveBulkheadPolicy(bulkhead) : new BulkheadPolicy(bulkhead));
    }
    const call = createResilientMethod(
      downstream.call,
      { className: 'Bench', methodName: 'call' },
      policies,
      'promise',
    ) as () => Promise<unknown>;
    const result = await offerLoad(call, {
      rate: KNEE_RATE * multiple,
      duration: seconds * 1000,
      warmup: warmupMs,
      deadline: DEADLINE,
    });
    const cells = [
      label,
      `${multiple}x`,
      Math.round(result.goodput),
      milliseconds(result.p99),
      result.timedOut,
      result.rejected,
      bulkhead?.snapshot().limit ?? '-',
    ];
    lines.push(`| ${cells.join(' | ')} |`);
    console.error(lines.at(-1));
  }
}

// Load shedding reacts to this process's event loop, which the in-process downstream does not load: its rows come
// from a real Nest app in a child process whose handler burns the CPU (bench/overload-shedding.ts).
const shedSeconds = setting('BENCH_SHED_SECONDS', 10, 1);
const shedWarmup = setting('BENCH_SHED_WARMUP', 5, 0);
const { burnMs, deadlineMs, giveUpMs, capacityCallers } = SHEDDING_SETUP;
const capacity = await measureCapacity(setting('BENCH_CAPACITY_SECONDS', 5, 0.5), smoke ? 0 : 2);
lines.push(
  '',
  `Load shedding: a Nest app (Express) in a child process, its handler busy ${burnMs} ms per request; capacity ` +
    `measured first, closed-loop (${capacityCallers} callers, each sending its next request when the last is ` +
    `answered, a fresh server without shedding): ${Math.round(capacity)} requests/s (the CPU alone would allow ` +
    `${1000 / burnMs}). Offered 1x, 2x and 4x that capacity open-loop over HTTP keep-alive; ` +
    `good = 200 within ${deadlineMs} ms of when the request was due, latency from that moment too; abandoned after ` +
    `${giveUpMs} ms; p99 over all requests (200s, 503s and abandoned alike) and over the 200s alone; ` +
    `${shedSeconds} s per run, the first ${shedWarmup} s not counted (the drop probability settling), a fresh ` +
    'server per run',
  '',
  '| protection | load (x measured capacity) | goodput/s | p99 ms (all requests) | p99 ms (200s) | timed out | ' +
    'shed (503) | offered |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
);
await sheddingRows(capacity, shedSeconds, shedWarmup, MULTIPLES, (row) => {
  const cells = [
    row.label,
    `${row.multiple}x`,
    Math.round(row.goodput),
    milliseconds(row.p99All),
    milliseconds(row.p99),
  ];
  lines.push(`| ${[...cells, row.timedOut, row.shed, row.offered].join(' | ')} |`);
  console.error(lines.at(-1));
});
console.log(lines.join('\n'));
writeResults('overload.md', lines.join('\n'));
