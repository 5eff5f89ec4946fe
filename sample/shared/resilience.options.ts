import type { ResilienceModuleOptions } from 'nest-resilience';

/**
 * The samples' named policies for the payment gateway: the numbers live here, not in the decorators, so an operator
 * can tune them per environment (with `forRootAsync` and `ConfigService`) without a code change.
 */
export const gatewayPolicies: ResilienceModuleOptions = {
  defaults: { retry: { jitter: 'full' } },
  timeouts: { gateway: { duration: 800, total: 3000 } },
  retries: { gateway: { maxAttempts: 3, initialDelay: 100, maxDelay: 1000 } },
  circuitBreakers: {
    gateway: { window: 'time', windowSize: 30, minimumCalls: 5, failureRateThreshold: 50, openDuration: 10_000 },
  },
  bulkheads: { gateway: { maxConcurrent: 10, maxQueue: 20, maxWait: 2000 } },
};
