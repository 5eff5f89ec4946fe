import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    environment: 'node',
    // e2e specs boot real HTTP servers; keep the default isolation but give slow CI machines room.
    testTimeout: 15_000,
    hookTimeout: 30_000,
  },
});
