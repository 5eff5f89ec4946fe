import type { PolicyTarget } from '../events/resilience-event.interface.js';

/**
 * Recent latencies per decorated method, for `@Hedge({ delay: { percentile } })`. The observability work (latency
 * histograms per target) provides one; until then give your own as the module option `latencySource`.
 */
export interface LatencySource {
  /** The `percentile` (0-100) of the target's recent latencies in ms, or `undefined` while it knows too little. */
  percentile(target: PolicyTarget, percentile: number): number | undefined;
}
