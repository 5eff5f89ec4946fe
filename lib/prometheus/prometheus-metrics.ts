import { Counter, Gauge, type Registry } from 'prom-client';
import type { CircuitState } from '../core/circuit-breaker/circuit-breaker.snapshot.js';
import { ResilienceConfigError } from '../core/errors/resilience-config.error.js';
import type { CallOutcome } from '../core/metrics/call-outcome.js';
import type { CallRecorder, TargetCallRecorder } from '../core/metrics/call-recorder.interface.js';
import { eventLabels } from '../core/metrics/event-labels.js';
import type { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import { CallDurationHistogram } from './call-duration-histogram.js';

const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half_open', 'forced_open', 'disabled'];

/** The instruments' names, as registered. */
const METRIC_NAMES = [
  'nest_resilience_call_duration_seconds',
  'nest_resilience_events_total',
  'nest_resilience_circuit_breaker_state',
  'nest_resilience_bulkhead_active',
  'nest_resilience_bulkhead_queued',
  'nest_resilience_rate_limit_decisions_total',
] as const;

/** Buckets of the call duration histogram, in seconds: 5 ms to 10 s (prom-client's defaults). */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** Options of the Prometheus metrics. */
export interface PrometheusMetricsOptions {
  /** Buckets of `nest_resilience_call_duration_seconds`, in seconds. Default {@link DEFAULT_DURATION_BUCKETS}. */
  buckets?: readonly number[];
}

/**
 * The instruments of nest-resilience in a prom-client `Registry`: call durations counted per target (arrays resolved
 * at bootstrap, read on scrape: see `CallDurationHistogram`) and event counts as they happen; breaker states,
 * bulkhead occupancy and rate-limit decisions read from the resilience registry when Prometheus scrapes (nothing per
 * request). Labels are policy names and `Class.method` targets only.
 */
export class PrometheusMetrics implements CallRecorder {
  private readonly duration: CallDurationHistogram;
  private readonly unsubscribe: () => void;
  /** The recorders of the targets, for `recordCall` (an exporter that names the target per call). */
  private readonly byTarget = new Map<string, TargetCallRecorder>();

  constructor(
    private readonly resilience: ResilienceRegistry,
    private readonly registry: Registry,
    options: PrometheusMetricsOptions = {},
  ) {
    const taken = METRIC_NAMES.find((name) => registry.getSingleMetric(name) !== undefined);
    if (taken !== undefined) {
      throw new ResilienceConfigError(
        `The prom-client registry already holds ${taken}: another application in this process registered into it ` +
          `(or one that failed to start). Give each application its own: ` +
          `ResiliencePrometheusModule.forRoot({ registry: new Registry() })`,
        'ResiliencePrometheusModule',
      );
    }
    const registers = [registry];
    this.duration = new CallDurationHistogram(
      'nest_resilience_call_duration_seconds',
      'Duration of calls to decorated methods, retries and fallback included, by outcome',
      options.buckets ?? DEFAULT_DURATION_BUCKETS,
      registry,
    );
    const events = new Counter({
      name: 'nest_resilience_events_total',
      help: 'What the policies did: retries, timeouts, breaker transitions, rejections, fallbacks',
      labelNames: ['kind', 'name', 'event'],
      registers,
    });
    new Gauge({
      name: 'nest_resilience_circuit_breaker_state',
      help: 'Circuit breaker state: 1 for the current state, 0 for the others',
      labelNames: ['name', 'state'],
      registers,
      collect() {
        for (const breaker of resilience.circuitBreakers.list()) {
          for (const state of CIRCUIT_STATES) this.set({ name: breaker.name, state }, breaker.state === state ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'nest_resilience_bulkhead_active',
      help: 'Calls running in the bulkhead',
      labelNames: ['name'],
      registers,
      collect() {
        for (const bulkhead of resilience.bulkheads.list()) this.set({ name: bulkhead.name }, bulkhead.active);
      },
    });
    new Gauge({
      name: 'nest_resilience_bulkhead_queued',
      help: 'Calls waiting for a bulkhead slot',
      labelNames: ['name'],
      registers,
      collect() {
        for (const bulkhead of resilience.bulkheads.list()) this.set({ name: bulkhead.name }, bulkhead.queued);
      },
    });
    new Counter({
      name: 'nest_resilience_rate_limit_decisions_total',
      help: 'Rate-limit decisions: calls and requests allowed or refused',
      labelNames: ['name', 'decision'],
      registers,
      collect() {
        // The limits count their decisions themselves; the counter takes their totals on scrape.
        this.reset();
        for (const limit of resilience.rateLimits.list()) {
          this.inc({ name: limit.name, decision: 'allowed' }, limit.allowed);
          this.inc({ name: limit.name, decision: 'refused' }, limit.refused);
        }
      },
    });
    const rateLimitNames = () => resilience.rateLimits.names();
    this.unsubscribe = resilience.events.subscribe((event) => {
      const labels = eventLabels(event, rateLimitNames);
      if (labels !== undefined) events.inc({ kind: labels.kind, name: labels.name, event: labels.event });
    });
    resilience.targets.addRecorder(this);
  }

  /** The recorder of one target, asked once at bootstrap: per call it only counts into that target's buckets. */
  forTarget(target: string): TargetCallRecorder {
    let recorder = this.byTarget.get(target);
    if (recorder === undefined) this.byTarget.set(target, (recorder = this.duration.forTarget(target)));
    return recorder;
  }

  /** Records one call of `target` (the measuring steps use `forTarget`'s recorder instead). */
  recordCall(target: string, outcome: CallOutcome, seconds: number): void {
    this.forTarget(target).recordCall(outcome, seconds);
  }

  /** Stops counting events and takes the instruments out of the registry (when the application shuts down). */
  close(): void {
    this.unsubscribe();
    for (const name of METRIC_NAMES) this.registry.removeSingleMetric(name);
  }
}
