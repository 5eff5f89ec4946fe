import { writeFileSync } from 'node:fs';
import { smoke } from './smoke.js';

/** bench/results/, from dist/bench/support/ where this module runs. */
const resultsDir = new URL('../../../bench/results/', import.meta.url);

/**
 * Writes one script's report to bench/results/<file>, the table bench/README.md links to. A smoke run
 * (BENCH_SMOKE=1) writes nothing: its figures come from a few hundred calls and mean nothing.
 */
export function writeResults(file: string, report: string): void {
  if (smoke) return;
  writeFileSync(new URL(file, resultsDir), `${report}\n`);
}
