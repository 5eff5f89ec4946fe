/**
 * BENCH_SMOKE=1 (set by `npm run bench:smoke`): every script runs its whole path once, briefly (a few hundred calls,
 * one round, sub-second loads) and writes no results file. It proves that a benchmark still runs, not how fast
 * anything is; `.ci/run` runs it so that no benchmark can break unnoticed.
 */
export const smoke = process.env.BENCH_SMOKE === '1';

/** `full` normally, `brief` in a smoke run; an explicit environment variable wins over both. */
export function setting(name: string, full: number, brief: number): number {
  const value = process.env[name];
  return value === undefined ? (smoke ? brief : full) : Number(value);
}
