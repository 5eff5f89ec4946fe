import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { smoke } from './smoke.js';

/** bench/results/, from dist/bench/support/ where this module runs. */
const resultsDir = new URL('../../../bench/results/', import.meta.url);

/**
 * The commit the build came from (`+`: the work tree had other changes than results tables), or nothing outside a git
 * checkout.
 */
function commit(): string {
  try {
    const cwd = new URL('../../../', import.meta.url);
    const run = (args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: 'pipe' }).trim();
    const changed = run(['status', '--porcelain', '--', '.', ':!bench/results']) !== '';
    return ` at ${run(['rev-parse', '--short', 'HEAD'])}${changed ? '+' : ''}`;
  } catch {
    return '';
  }
}
const built = commit();

/**
 * Which run a table comes from: when it started, the npm script (and the BENCH_* settings it was given), the commit,
 * and how busy the machine was. The figures of a shared VM belong to their run only; the docs that quote them name
 * it by this line.
 */
const started = new Date();
const startLoad = loadavg()[0];
export function runStamp(): string {
  const script = process.env.npm_lifecycle_event;
  const command = script ? `npm run ${script}` : `node ${process.argv.slice(1).join(' ')}`;
  const settings = Object.entries(process.env)
    .filter(([name]) => name.startsWith('BENCH_'))
    .map(([name, value]) => `${name}=${value}`)
    .sort();
  const when = started.toISOString().slice(0, 16).replace('T', ' ');
  const load = `load average ${startLoad.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end`;
  // The machine's cores, not this process's share: the HTTP harness pins itself to one with taskset.
  const cores = `${cpus().length} cores`;
  return `Run: \`${[...settings, command].join(' ')}\`${built}, ${when} UTC, ${cores}, ${load}.`;
}

/**
 * Writes one script's report to bench/results/<file>, the table bench/README.md links to, under its run stamp. A
 * smoke run (BENCH_SMOKE=1) writes nothing: its figures come from a few hundred calls and mean nothing.
 */
export function writeResults(file: string, report: string): void {
  if (smoke) return;
  writeFileSync(new URL(file, resultsDir), `${runStamp()}\n\n${report}\n`);
}
