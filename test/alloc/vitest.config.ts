import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The allocation guard (`npm run test:alloc`): bytes allocated per call on the hot paths, each case in a fresh
 * process (bench/alloc.ts), held to the budgets in test/alloc/budgets.json. Separate from `npm test` because it
 * needs the build and a process per case.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/alloc/**/*.alloc.ts'],
    environment: 'node',
    // One case at a time: two measuring processes would not disturb each other's bytes, but they would each other's
    // time, and the suite should not take the whole machine.
    fileParallelism: false,
    testTimeout: 120_000,
  },
});
