import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full garbage collection (`--expose-gc` is set by the suite's config; the flag is set here too, for IDE runs). */
export function collectGarbage(): void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed();
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Heap in use after two full collections (the second collects what the first's finalizers released). */
export function heapAfterGc(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** Handles keeping the process alive (sockets, timers, servers), by type. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

export const MB = 1024 * 1024;

/**
 * Runs `work` in `workers` concurrent loops until `until()` says stop. Each loop yields to the event loop between
 * calls (as network clients do): in-process injection that completes in microtasks would otherwise starve the timers
 * and make every deadline look missed.
 */
export async function concurrently(workers: number, until: () => boolean, work: () => Promise<void>): Promise<void> {
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!until()) {
        await work();
        await new Promise((resolve) => setImmediate(resolve));
      }
    }),
  );
}
