/**
 * Measures one case of the overhead benchmark in this (fresh) process and prints its ns/call as JSON:
 *   node dist/bench/overhead-case.js <case name> <promise|observable>
 */
import { measure } from './measure.js';
import { bootTarget, CASES } from './overhead-cases.js';

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
