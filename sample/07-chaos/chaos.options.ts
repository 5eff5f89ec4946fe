import type { ResilienceModuleOptions } from 'nest-resilience';
import { gatewayPolicies } from '../shared/resilience.options.js';

/**
 * The main sample's policies plus a chaos experiment on every call naming the `gateway` configurations (charges) and
 * one on the exchange rates: faults, and latency beyond the 800 ms timeout. Seeded, so every run injects the same.
 */
export const chaosPolicies: ResilienceModuleOptions = {
  ...gatewayPolicies,
  // A shorter open duration than the main sample's, so a 20-second run shows the breaker probing and closing.
  circuitBreakers: { gateway: { ...gatewayPolicies.circuitBreakers?.gateway, openDuration: 3_000 } },
  chaos: {
    enabled: true,
    seed: 2026,
    maxInjectionsPerMinute: 1_000,
    experiments: {
      gateway: { fault: { rate: 0.35 }, latency: { rate: 0.15, delay: { min: 300, max: 1_500 } } },
      'PaymentsService.rate': { fault: { rate: 0.5 } },
    },
  },
};
