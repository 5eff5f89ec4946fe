/**
 * Bytes allocated per call, read from the heap's growth while no garbage collection runs. Unlike a time, this does
 * not depend on how fast or how busy the machine is, so CI can hold it (`npm run test:alloc`).
 *
 * The process must run with `--expose-gc` and a young generation large enough for one round's calls
 * (`--min-semi-space-size=64 --max-semi-space-size=64`: 64 MB, about 16 KB per call for 4,000 calls): a full
 * collection empties it before each round, and a round during which any collection ran is discarded.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import v8 from 'node:v8';

/** The Node flags a process measuring allocations runs with. */
// --single-threaded: with background compilation, whether the optimized code (escape analysis included) was in
// place by the measured rounds depended on the machine's load, and one case read 490 or 640 bytes per call.
export const ALLOCATION_NODE_FLAGS = [
  '--expose-gc',
  '--single-threaded',
  '--min-semi-space-size=64',
  '--max-semi-space-size=64',
];

export interface AllocationOptions {
  /** Calls per measured round. Default 4,000. */
  readonly calls?: number;
  /** Measured rounds; the result is the smallest. Default 12. */
  readonly rounds?: number;
  /** Calls before the first round, for the JIT to optimize the path (escape analysis too). Default 50,000. */
  readonly warmup?: number;
}

/**
 * The bytes one awaited call of `run` allocates: the smallest heap growth per call over `rounds` rounds without a
 * collection. The smallest, because what can only add bytes (a deoptimization, a lazily built cache) is noise here.
 */
export async function bytesPerCall(
  run: () => Promise<unknown>,
  { calls = 4_000, rounds = 12, warmup = 50_000 }: AllocationOptions = {},
): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error(`measure allocations with node ${ALLOCATION_NODE_FLAGS.join(' ')}`);
  const collections: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) collections.push(entry.startTime);
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    for (let i = 0; i < warmup; i++) await run();
    let best = Infinity;
    for (let round = 0; round < rounds; round++) {
      gc();
      const started = performance.now();
      const before = v8.getHeapStatistics().used_heap_size;
      for (let i = 0; i < calls; i++) await run();
      const after = v8.getHeapStatistics().used_heap_size;
      const ended = performance.now();
      // GC entries arrive asynchronously: wait for the ones of this round before judging it.
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (collections.some((at) => at >= started && at <= ended)) continue;
      best = Math.min(best, (after - before) / calls);
    }
    if (best === Infinity) throw new Error(`a collection ran in every round: lower the calls per round (${calls})`);
    return best;
  } finally {
    observer.disconnect();
  }
}
