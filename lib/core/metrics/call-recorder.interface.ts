import type { CallOutcome } from './call-outcome.js';

/**
 * Receives every measured call (an exporter: Prometheus, OpenTelemetry). Called on the call's path, so it must be
 * cheap and must not throw.
 */
export interface CallRecorder {
  /** `target` is `Class.method`; `seconds` the call's duration, retries and fallback included. */
  recordCall(target: string, outcome: CallOutcome, seconds: number): void;
  /**
   * Optional: the recorder of one target, asked once per target at bootstrap; the measuring step then calls it
   * instead of `recordCall`, so whatever depends on the target (label sets, attribute objects, buckets) is resolved
   * once, never per call.
   */
  forTarget?(target: string): TargetCallRecorder;
}

/** What receives the calls of one target (`CallRecorder.forTarget`). Cheap, and never throws. */
export interface TargetCallRecorder {
  /** `seconds`: the call's duration, retries and fallback included. */
  recordCall(outcome: CallOutcome, seconds: number): void;
}

/** The recorder of `target` for `recorder`: its own when it has one, else one that names the target per call. */
export function targetRecorder(recorder: CallRecorder, target: string): TargetCallRecorder {
  if (recorder.forTarget) return recorder.forTarget(target);
  return { recordCall: (outcome, seconds) => recorder.recordCall(target, outcome, seconds) };
}
