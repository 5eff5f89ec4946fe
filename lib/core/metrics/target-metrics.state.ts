import { CALL_OUTCOMES, type CallOutcome } from './call-outcome.js';
import { targetRecorder, type CallRecorder, type TargetCallRecorder } from './call-recorder.interface.js';
import { SlidingHistogram } from './sliding-histogram.js';

/** A decorated target's figures, as the registry reports them (durations in milliseconds). */
export interface TargetSnapshot {
  /** `Class.method`. */
  readonly name: string;
  /** Calls since the application started, by outcome. */
  readonly outcomes: Readonly<Record<CallOutcome, number>>;
  /** Calls in the sliding window (the last 30 to 60 seconds by default). */
  readonly count: number;
  /** Calls per second over the sliding window. */
  readonly callsPerSecond: number;
  /** Median latency in the window (ms); `null` when no call finished in the window (an idle target: no data). */
  readonly p50: number | null;
  /** 95th percentile latency in the window (ms); `null` when the window is empty. */
  readonly p95: number | null;
  /** 99th percentile latency in the window (ms); `null` when the window is empty. */
  readonly p99: number | null;
}

/**
 * The measured calls of one decorated method: totals by outcome and a sliding latency distribution (every outcome,
 * retries and fallback included: what the caller waited). Created at bootstrap, only when metrics are enabled.
 */
export class TargetMetricsState {
  private readonly outcomes: Record<CallOutcome, number> = {
    success: 0,
    failure: 0,
    timeout: 0,
    short_circuited: 0,
    rejected: 0,
    fallback: 0,
  };
  private readonly latency: SlidingHistogram;
  /** The exporters' recorders of this target, resolved once (at bootstrap), not per call. */
  private readonly recorders: TargetCallRecorder[] = [];

  constructor(
    readonly name: string,
    windowMs: number,
    recorders: readonly CallRecorder[],
    now?: () => number,
  ) {
    this.latency = new SlidingHistogram(windowMs, now);
    for (const recorder of recorders) this.attach(recorder);
  }

  /** @internal Sends this target's calls to `recorder` too, from now on. */
  attach(recorder: CallRecorder): void {
    this.recorders.push(targetRecorder(recorder, this.name));
  }

  /** Records one finished call. */
  record(outcome: CallOutcome, durationMs: number): void {
    this.outcomes[outcome]++;
    this.latency.record(durationMs);
    const { recorders } = this;
    if (recorders.length === 0) return;
    const seconds = durationMs / 1000;
    for (let i = 0; i < recorders.length; i++) recorders[i].recordCall(outcome, seconds);
  }

  /** Calls in the sliding window, and the duration below which `percentile` percent of them lie (ms). */
  recentLatency(percentile: number): { readonly count: number; readonly value: number } {
    return { count: this.latency.count(), value: this.latency.percentile(percentile) };
  }

  snapshot(): TargetSnapshot {
    const { count, p50, p95, p99, spanMs } = this.latency.percentiles();
    const outcomes = {} as Record<CallOutcome, number>;
    for (const outcome of CALL_OUTCOMES) outcomes[outcome] = this.outcomes[outcome];
    return {
      name: this.name,
      outcomes,
      count,
      callsPerSecond: spanMs > 0 ? round((count * 1000) / spanMs) : 0,
      p50: round(p50),
      p95: round(p95),
      p99: round(p99),
    };
  }
}

function round(value: number): number;
function round(value: number | null): number | null;
function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1000) / 1000;
}
