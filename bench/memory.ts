/**
 * Memory held per remembered last-known-good entry (memory store), after a full GC, beside what the store counts
 * against `maxBytes`. Run: `npm run bench:memory` (node --expose-gc); writes bench/results/memory.md.
 */
import { MemoryLastKnownGoodStore } from 'nest-resilience';
// Exception to "import the package as users do": the per-method state is not exported (users reach it through
// `@Fallback`), and an app around it would put the app's heap in the figure.
import { LastKnownGoodState } from '../lib/core/fallback/last-known-good.state.js';
import { writeResults } from './support/results.js';
import { smoke } from './support/smoke.js';

const ENTRIES = smoke ? 200 : 20_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const results: string[] = [];
for (const [label, make] of [
  ['a number', (index: number) => index],
  [
    'a 1.4 KB quote (40 prices)',
    (index: number) => ({
      symbol: `S${index}`,
      prices: Array.from({ length: 40 }, (_, k) => ({ at: 1_764_000_000_000 + k, price: 100 + k / 10 })),
    }),
  ],
] as const) {
  const options = { maxAge: 60_000, refreshInterval: 1000, maxEntries: ENTRIES, maxBytes: 2 ** 30 };
  const store = new MemoryLastKnownGoodStore(options);
  const state = new LastKnownGoodState(
    'Bench.method',
    { ...options, key: undefined, shared: false, name: undefined },
    store,
  );
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let index = 0; index < ENTRIES; index++) state.remember(JSON.stringify(['key', index]), make(index));
  gc();
  const held = (process.memoryUsage().heapUsed - before) / ENTRIES;
  const counted = store.size().bytes / ENTRIES;
  results.push(`| ${label} | ${Math.round(held)} | ${Math.round(counted)} |`);
}
const report = [
  `Node ${process.version}, ${ENTRIES.toLocaleString('en')} entries per row in the memory store, heap after a full GC`,
  '',
  '| remembered result | heap bytes per entry | bytes counted against maxBytes |',
  '| --- | ---: | ---: |',
  ...results,
].join('\n');
console.log(report);
writeResults('memory.md', report);
