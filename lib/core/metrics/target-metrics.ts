import type { CallRecorder } from './call-recorder.interface.js';
import { NamedPolicies } from '../registry/named-policies.js';
import { TargetMetricsState, type TargetSnapshot } from './target-metrics.state.js';

/** Default sliding window of the latency percentiles: the last 30 to 60 seconds. */
export const DEFAULT_LATENCY_WINDOW_MS = 60_000;

/**
 * The measured decorated targets (`Class.method`) of an application, read like a map: `get`, `has`, `names`, `list`
 * (outcome totals, p50/p95/p99, calls per second). Empty unless call metrics are enabled before bootstrap (module
 * option `metrics: true`, or importing an exporter or the dashboard): an application without them pays nothing.
 */
export class TargetMetrics extends NamedPolicies<TargetMetricsState, TargetSnapshot> {
  private on = false;
  private readonly recorders: CallRecorder[] = [];

  constructor(private readonly windowMs = DEFAULT_LATENCY_WINDOW_MS) {
    super('target');
  }

  /** True when pipelines built from now on measure their calls. */
  get enabled(): boolean {
    return this.on;
  }

  /** @internal Measures the calls of every pipeline built from now on (at bootstrap). */
  enable(): void {
    this.on = true;
  }

  /**
   * Sends every measured call to `recorder` too (your own exporter) and enables call metrics. Call it before the
   * application's bootstrap (from a provider's constructor, as the exporters do).
   */
  addRecorder(recorder: CallRecorder): void {
    this.on = true;
    if (this.recorders.includes(recorder)) return;
    this.recorders.push(recorder);
    // Targets already built (a recorder added late) send their calls to it too; later ones get it when created.
    for (const target of this.values()) target.attach(recorder);
  }

  /** @internal The figures of `name` (`Class.method`), created on first use at bootstrap. */
  targetFor(name: string): TargetMetricsState {
    return this.obtain(name, () => new TargetMetricsState(name, this.windowMs, this.recorders));
  }
}
