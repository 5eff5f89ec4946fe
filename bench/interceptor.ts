/**
 * What the library adds per request on a handler, beside Nest's own do-nothing interceptor and guard, measured
 * in-process (no HTTP, so the figure is ours and not the network's):
 *   node dist/bench/interceptor.js                  -> ns per request, every case, interleaved rounds
 *   node dist/bench/interceptor.js <case> <count>   -> runs one case <count> times (for instruction counts:
 *     valgrind --tool=callgrind --callgrind-out-file=/dev/null node dist/bench/interceptor.js <case> <count>)
 * Cases: noop-interceptor, resilience-all (Fallback, Retry, CircuitBreaker, Timeout, Bulkhead), resilience-timeout,
 * noop-guard, ratelimit-guard; and a POST with a JSON body and a new `Idempotency-Key` on every call: post-bare
 * (`next.handle()` alone), post-noop-interceptor, post-idempotent-memory (`@Idempotent()`, the default memory store:
 * acquire, run, complete, and past 10,000 keys one eviction per call). Through Nest's own guard and interceptor
 * consumers, as its router runs a GET (a real ServerResponse, the rate-limit headers set on it): nest-noop-both (a
 * do-nothing guard and interceptor), nest-six-stand-ins (bench/support/stand-ins.ts: the least all six decorators'
 * happy path could cost, inline), nest-six-decorators (all six): what the HTTP bench's `six-stand-ins` and
 * `resilience` routes differ by, without the network's noise; the same three on Fastify (`-fastify`: a Nest Fastify
 * app's adapter, and the request and reply of one `inject()`, kept). BENCH_CASES=a,b,... measures only those cases.
 */
import { measure } from './support/measure.js';
import { bootInterceptorCases, type InterceptorCaseName } from './support/interceptor-cases.js';
import { setting, smoke } from './support/smoke.js';
import { writeResults } from './support/results.js';

const { cases, close } = await bootInterceptorCases();
const [only, count] = process.argv.slice(2);
if (only !== undefined) {
  const run = cases[only as InterceptorCaseName];
  if (run === undefined) throw new Error(`unknown case ${only}: ${Object.keys(cases).join(', ')}`);
  for (let i = 0; i < Number(count ?? 10_000); i++) await run();
} else {
  const iterations = setting('BENCH_ITERATIONS', 50_000, 200);
  const chosen = process.env.BENCH_CASES?.split(',');
  const results = await measure(
    Object.entries(cases)
      .filter(([name]) => chosen === undefined || chosen.includes(name))
      .map(([name, run]) => ({ name, run })),
    smoke ? { iterations, rounds: 1, warmupRounds: 0 } : { iterations },
  );
  const ns = (name: string) => results.get(name) ?? Number.NaN;
  /** All six decorators beside the six stand-ins through Nest, on `platform` (`''` or `'-fastify'`). */
  const sixLine = (platform: string, label: string) => {
    const added = ns(`nest-six-decorators${platform}`) - ns(`nest-six-stand-ins${platform}`);
    const share = (100 * ns(`nest-six-stand-ins${platform}`)) / ns(`nest-six-decorators${platform}`);
    return Number.isNaN(added)
      ? undefined
      : `All six decorators beside the six stand-ins, through Nest (${label}): ${added.toFixed(0)} ns more per ` +
          `request (${share.toFixed(1)}% of the stand-ins' rate).`;
  };
  const lines = [
    `Per request, in-process, Node ${process.version} ` +
      `(median of 7 interleaved rounds of ${iterations.toLocaleString('en')})`,
    '',
    '| case | ns/request | added beside the do-nothing enhancer |',
    '| --- | ---: | ---: |',
    ...['noop-interceptor', 'resilience-all', 'resilience-timeout'].map(
      (name) => `| ${name} | ${ns(name).toFixed(0)} | ${(ns(name) - ns('noop-interceptor')).toFixed(0)} ns |`,
    ),
    ...['noop-guard', 'ratelimit-guard'].map(
      (name) => `| ${name} | ${ns(name).toFixed(0)} | ${(ns(name) - ns('noop-guard')).toFixed(0)} ns |`,
    ),
    ...['post-bare', 'post-noop-interceptor', 'post-idempotent-memory'].map((name) => {
      const added = name === 'post-bare' ? '-' : `${(ns(name) - ns('post-noop-interceptor')).toFixed(0)} ns`;
      return `| ${name} | ${ns(name).toFixed(0)} | ${added} |`;
    }),
    ...['', '-fastify'].flatMap((platform) =>
      ['nest-noop-both', 'nest-six-stand-ins', 'nest-six-decorators'].map((name) => {
        const added = ns(name + platform) - ns(`nest-noop-both${platform}`);
        return `| ${name}${platform} | ${ns(name + platform).toFixed(0)} | ${added.toFixed(0)} ns |`;
      }),
    ),
    '',
    sixLine('', 'Express-style Node request and response'),
    sixLine('-fastify', 'Fastify'),
  ].filter((line): line is string => line !== undefined && !line.includes('| NaN |'));
  console.log(lines.join('\n'));
  writeResults('interceptor.md', lines.join('\n'));
}
await close();
