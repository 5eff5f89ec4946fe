/**
 * The call duration histogram as both modes export it: the synchronous instrument on the meter and
 * `ResilienceMetricProducer` use the same name, description, unit and default bucket boundaries, so a dashboard reads
 * one series whichever is wired.
 */
export const CALL_DURATION = Object.freeze({
  name: 'nest_resilience.call.duration',
  description: 'Duration of calls to decorated methods, retries and fallback included, by outcome',
  unit: 's',
});

/** Bucket boundaries of the call duration, in seconds (the same as the Prometheus histogram's). */
export const DURATION_BOUNDARIES: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);
