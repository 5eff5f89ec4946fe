import type { PolicyTarget } from '../events/resilience-event.interface.js';
import type { TargetMetricsState } from '../metrics/target-metrics.state.js';
import type { LatencySource } from './latency-source.interface.js';

/** Calls a target must have in its sliding window before its percentile is trusted; until then `fallback` is used. */
export const DEFAULT_MIN_LATENCY_SAMPLES = 20;
/** The percentile is read from the histograms at most this often (ms): merging them costs more than a call. */
const REFRESH_MS = 1_000;

/**
 * The default {@link LatencySource} of `@Hedge({ delay: { percentile } })`: the method's own sliding latency histogram
 * (the registry's `targets`, the last 30 to 60 s), which the pipeline factory measures for any hedged method with a
 * percentile delay, call metrics on or not. What it measures is the whole call as its caller waited (hedges
 * included); `undefined` while the window holds fewer than {@link DEFAULT_MIN_LATENCY_SAMPLES} calls.
 */
export class MetricsLatencySource implements LatencySource {
  private value: number | undefined = undefined;
  private readAt = -Infinity;

  constructor(
    private readonly target: TargetMetricsState,
    private readonly minSamples = DEFAULT_MIN_LATENCY_SAMPLES,
  ) {}

  percentile(_target: PolicyTarget, percentile: number): number | undefined {
    const now = performance.now();
    if (now - this.readAt >= REFRESH_MS || this.value === undefined) {
      const { count, value } = this.target.recentLatency(percentile);
      this.value = count >= this.minSamples ? value : undefined;
      // While too few calls are known, look again at the next call rather than in a second.
      if (this.value !== undefined) this.readAt = now;
    }
    return this.value;
  }
}
