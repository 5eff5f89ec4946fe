/**
 * Our policies beside the peers' equivalents, like for like, in ONE process: every case is measured in interleaved
 * rounds, so a busy machine slows each alike and the ratios hold even where absolute figures do not (the fresh-process
 * `npm run bench` needs a quiet machine). Run: `npm run bench:peers`; writes bench/results/peers.md.
 * Each ratio says what it compares:
 * - our `@Timeout` when the method asks for its signal (`getTimeoutSignal()`: an AbortController and a deadline per
 *   call) against cockatiel's cooperative `timeout`, which makes an AbortController and a timer on every call;
 * - our `@Timeout` when the method does not ask (no signal made) against the same cockatiel timeout: what a method
 *   that has nothing to cancel saves;
 * - cockatiel's `wrap(fallback, retry, circuitBreaker, timeout, bulkhead)` against our same five policies with the
 *   signal asked for (like for like), and against our six (with `@RateLimit`) without a signal (the usual case).
 */
import { measure } from './support/measure.js';
import { bootTarget, CASES } from './support/overhead-cases.js';
import { writeResults } from './support/results.js';
import { setting, smoke } from './support/smoke.js';

const PAIRS: readonly { ours: string; peer: string; compares: string }[] = [
  {
    ours: 'Timeout, the method calls getTimeoutSignal()',
    peer: 'cockatiel timeout',
    compares: 'like for like: both make an AbortController per call',
  },
  {
    ours: 'Timeout (no signal asked for)',
    peer: 'cockatiel timeout',
    compares: 'ours makes no signal when the method does not ask; cockatiel always does',
  },
  {
    ours: 'five policies as cockatiel wraps them (Fallback+Retry+CircuitBreaker+Timeout+Bulkhead), signal asked for',
    peer: 'cockatiel wrap(fallback, retry, circuitBreaker, timeout, bulkhead)',
    compares: 'like for like: the same five policies, a signal per call on both sides',
  },
  {
    ours: 'full pipeline (Fallback+Retry+CircuitBreaker+RateLimit+Timeout+Bulkhead)',
    peer: 'cockatiel wrap(fallback, retry, circuitBreaker, timeout, bulkhead)',
    compares: 'ours has a sixth policy (RateLimit) but makes no signal; cockatiel makes one per call',
  },
  {
    ours: 'CircuitBreaker (closed)',
    peer: 'cockatiel circuitBreaker',
    compares: 'like for like: a closed breaker counting a success',
  },
];

const iterations = setting('BENCH_ITERATIONS', 50_000, 200);
const rounds = setting('BENCH_ROUNDS', 9, 1);
const warmupRounds = smoke ? 0 : 2;
const { target, close } = await bootTarget();
const names = ['bare', ...new Set(PAIRS.flatMap((pair) => [pair.ours, pair.peer]))];
const cases = names.map((name) => {
  const make = CASES.find((entry) => entry.name === name)?.promise;
  if (!make) throw new Error(`no Promise case named "${name}"`);
  return { name, run: make(target) };
});
const ns = await measure(cases, { iterations, rounds, warmupRounds });
await close();

const bare = ns.get('bare')!;
const overhead = (name: string) => ns.get(name)! - bare;
const lines = [
  `Node ${process.version}, one process, ${rounds} interleaved rounds of ${iterations.toLocaleString('en')} ` +
    `sequential Promise calls after ${warmupRounds} warm-up rounds, median per case. ` +
    'Overhead = ns/call minus the bare call; ' +
    "ratio = our overhead / the peer's (below 1: ours costs less).",
  '',
  '| ours | peer | what the ratio compares | ours ns | peer ns | ratio |',
  '| --- | --- | --- | ---: | ---: | ---: |',
  ...PAIRS.map(
    ({ ours, peer, compares }) =>
      `| ${ours} | ${peer} | ${compares} | ${overhead(ours).toFixed(0)} | ${overhead(peer).toFixed(0)} | ` +
      `${(overhead(ours) / overhead(peer)).toFixed(2)}x |`,
  ),
];
const report = lines.join('\n');
console.log(report);
writeResults('peers.md', report);
process.exit(0);
