import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The standing fault suite (`npm run test:faults`): Redis killed, paused and restarted under load, many app
 * lifecycles, heap growth over 200k calls, bursts, a RabbitMQ broker stopped mid-publish (`rabbitmq-outbox.fault.ts`),
 * and the exactly-once model test of `@Idempotent`
 * (`exactly-once.fault.ts`, 200 seeded fault schedules). Separate from `npm test` because it takes a few minutes.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/faults/**/*.fault.ts'],
    environment: 'node',
    // A real full GC before each heap reading: a flat heap is only meaningful after one.
    execArgv: ['--expose-gc'],
    // One file at a time: they measure heap, handles and latency, which neighbours would disturb.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
