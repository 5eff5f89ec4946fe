import type { CallOutcome } from './call-outcome.js';

/**
 * Receives every measured call (an exporter: Prometheus, OpenTelemetry). Called on the call's path, so it must be
 * cheap and must not throw.
 */
export interface CallRecorder {
  /** `target` is `Class.method`; `seconds` the call's duration, retries and fallback included. */
  recordCall(target: string, outcome: CallOutcome, seconds: number): void;
}
