import type { PolicyTarget } from '../events/resilience-event.interface.js';

/**
 * Recent latencies per decorated method, for `@Hedge({ delay: { percentile } })`. By default the method's own sliding
 * latency histogram (`MetricsLatencySource`, the registry's `targets`); give your own as the module option
 * `latencySource` to read them elsewhere.
 */
export interface LatencySource {
  /** The `percentile` (0-100) of the target's recent latencies in ms, or `undefined` while it knows too little. */
  percentile(target: PolicyTarget, percentile: number): number | undefined;
}
