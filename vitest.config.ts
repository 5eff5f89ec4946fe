import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  // The samples import the package by name: in tests that is the source, the same module instances as the tests use.
  resolve: {
    alias: [
      { find: /^nest-resilience$/, replacement: source('./lib/index.ts') },
      { find: /^nest-resilience\/health$/, replacement: source('./lib/health/index.ts') },
      { find: /^nest-resilience\/redis$/, replacement: source('./lib/redis/index.ts') },
      { find: /^nest-resilience\/testing$/, replacement: source('./lib/testing/index.ts') },
      { find: /^nest-resilience\/prometheus$/, replacement: source('./lib/prometheus/index.ts') },
      { find: /^nest-resilience\/opentelemetry$/, replacement: source('./lib/opentelemetry/index.ts') },
      { find: /^nest-resilience\/dashboard$/, replacement: source('./lib/dashboard/index.ts') },
      { find: /^nest-resilience\/http$/, replacement: source('./lib/http/index.ts') },
      { find: /^nest-resilience\/rabbitmq$/, replacement: source('./lib/rabbitmq/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.spec.ts'],
    environment: 'node',
    // e2e specs boot real HTTP servers; keep the default isolation but give slow CI machines room.
    testTimeout: 15_000,
    hookTimeout: 30_000,
  },
});
