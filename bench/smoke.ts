/**
 * Every benchmark script once, briefly (BENCH_SMOKE=1, see support/smoke.ts), each in its own process: proves that
 * each still runs end to end, not how fast anything is, and writes no results. `.ci/run` runs it.
 * Run: `npm run bench:smoke`. Prints each script's time; exits non-zero on the first script that fails.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** The entry file of each `bench*` npm script, with the arguments and Node flags that script passes. */
const SCRIPTS: readonly { script: string; args?: string[]; node?: string[] }[] = [
  { script: 'overhead' },
  { script: 'peers' },
  { script: 'interceptor' },
  { script: 'http' },
  { script: 'http-same-process' },
  { script: 'http-client' },
  { script: 'redis' },
  // A private rabbitmq-server (.ci/run installs it, as the RabbitMQ tests need it): its boot is most of the time.
  { script: 'rabbitmq' },
  { script: 'overload' },
  { script: 'memory', node: ['--expose-gc'] },
  { script: 'alloc' },
  { script: 'metrics-scrape' },
  // Headless Chromium: .ci/run installs it, as the dashboard's e2e tests need it too.
  { script: 'dashboard' },
  // This build against itself: the comparison's whole path, with no second checkout needed.
  { script: 'compare-builds', args: [root] },
];

const started = performance.now();
for (const { script, args = [], node = [] } of SCRIPTS) {
  const begin = performance.now();
  const entry = fileURLToPath(new URL(`./${script}.js`, import.meta.url));
  const result = spawnSync(process.execPath, [...node, entry, ...args], {
    env: { ...process.env, BENCH_SMOKE: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    timeout: 300_000,
  });
  const seconds = ((performance.now() - begin) / 1000).toFixed(1);
  if (result.status !== 0) {
    process.stderr.write(result.stderr);
    const why = result.error?.message ?? `exit ${result.status}`;
    console.error(`bench smoke: ${script} failed (${why}) after ${seconds} s`);
    process.exit(1);
  }
  console.log(`bench smoke: ${script} ran in ${seconds} s`);
}
console.log(`bench smoke: all ${SCRIPTS.length} scripts in ${((performance.now() - started) / 1000).toFixed(1)} s`);
