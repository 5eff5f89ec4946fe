/**
 * Measures one case of the overhead benchmark in this (fresh) process and prints its ns/call as JSON:
 *   node dist/bench/support/overhead-case.js <case name> <promise|observable>
 * In a smoke run (BENCH_SMOKE=1), `node dist/bench/support/overhead-case.js --all <setup>` calls every case of that
 * setup, both shapes, a few hundred times in this one process and prints `{ "<shape>:<name>": nsPerCall }`.
 */
import { measure } from './measure.js';
import { bootTarget, CASES, type BenchSetup } from './overhead-cases.js';

if (process.argv[2] === '--all') {
  const setup = process.argv[3] as BenchSetup;
  const { target, close } = await bootTarget(setup);
  const figures: Record<string, number> = {};
  for (const entry of CASES.filter((candidate) => (candidate.setup ?? 'plain') === setup)) {
    for (const shape of ['promise', 'observable'] as const) {
      const make = entry[shape];
      if (!make) continue;
      const results = await measure([{ name: entry.name, run: make(target) }], {
        iterations: 200,
        rounds: 1,
        warmupRounds: 0,
      });
      figures[`${shape}:${entry.name}`] = results.get(entry.name)!;
    }
  }
  await close();
  process.stdout.write(JSON.stringify(figures));
  process.exit(0);
}

const [name, shape] = process.argv.slice(2) as [string, 'promise' | 'observable'];
const entry = CASES.find((candidate) => candidate.name === name);
const make = entry?.[shape];
if (!make) throw new Error(`no ${shape} case named "${name}"`);
const { target, close } = await bootTarget(entry?.setup);
const run = make(target);
// About 0.2 s per round whatever the case costs (at most 100,000 calls), so slow peers do not take minutes.
const probeStart = process.hrtime.bigint();
for (let i = 0; i < 2_000; i++) await run();
const probeNs = Number(process.hrtime.bigint() - probeStart) / 2_000;
const iterations = Math.max(
  5_000,
  Math.min(Number(process.env.BENCH_ITERATIONS ?? 100_000), Math.round(2e8 / probeNs)),
);
const results = await measure([{ name, run }], { iterations, rounds: 5, warmupRounds: 2 });
await close();
process.stdout.write(JSON.stringify({ nsPerCall: results.get(name) }));
