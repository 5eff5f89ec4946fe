/**
 * One overhead case of two builds in one process, in interleaved rounds, so a noisy machine slows both alike:
 *   npm run bench:compare -- <other checkout, built> [promise|observable] [case name] [other's case name]
 * e.g. a checkout of the main branch built with `npx tsc -p tsconfig.build.json` beside this one. Prints the median
 * and the fastest round of each, and their ratios. With a fourth argument the other build runs that case instead:
 * with this checkout as the other, two rows of one build side by side (e.g. a metrics exporter against
 * 'full pipeline, call metrics on (registry percentiles)', issue 23's ratio).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as current from './support/overhead-cases.js';
import { middleValue as median } from './support/measure.js';
import { smoke } from './support/smoke.js';

type Cases = typeof current;
const [
  otherRoot,
  shape = 'promise',
  name = current.CASES.find((each) => each.name.startsWith('full'))!.name,
  otherName = name,
] = process.argv.slice(2) as [string, 'promise' | 'observable', string?, string?];
if (!otherRoot) {
  throw new Error('usage: compare-builds.js <other checkout> [promise|observable] [case name] [other case name]');
}
const other = (await import(pathToFileURL(resolve(otherRoot, 'dist/bench/support/overhead-cases.js')).href)) as Cases;

const runs: [string, () => Promise<unknown>][] = [];
for (const [label, cases] of [
  ['other', other],
  ['this', current],
] as const) {
  const wanted = label === 'other' ? otherName : name;
  const entry = cases.CASES.find((each) => each.name === wanted);
  // The case's own setup (call metrics on, exported): booted plain, a metrics row would measure no metrics.
  const { target } = await cases.bootTarget(entry?.setup);
  const make = entry?.[shape];
  if (!make) throw new Error(`no ${shape} case named "${wanted}" in ${label}`);
  runs.push([label, make(target)]);
}
const samples = new Map<string, number[]>(runs.map(([label]) => [label, []]));
const calls = smoke ? 200 : 50_000;
for (let round = 0; round < (smoke ? 6 : 24); round++) {
  for (const [label, run] of round % 2 ? runs : [...runs].reverse()) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) await run();
    // The first four rounds warm both up.
    if (round >= 4) samples.get(label)!.push(Number(process.hrtime.bigint() - start) / calls);
  }
}
const [theirs, ours] = [samples.get('other')!, samples.get('this')!];
const cases = otherName === name ? name : `${name} (other: ${otherName})`;
console.log(`${cases}, ${shape}: other ${median(theirs).toFixed(0)} ns, this ${median(ours).toFixed(0)} ns (medians);`);
console.log(
  `this/other: median ${(median(ours) / median(theirs)).toFixed(3)}, fastest round ${(
    Math.min(...ours) / Math.min(...theirs)
  ).toFixed(3)}`,
);
process.exit(0);
