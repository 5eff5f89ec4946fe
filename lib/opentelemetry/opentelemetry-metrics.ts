import {
  metrics,
  type Attributes,
  type BatchObservableCallback,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  type Observable,
} from '@opentelemetry/api';
import type { CircuitState } from '../core/circuit-breaker/circuit-breaker.snapshot.js';
import type { CallOutcome } from '../core/metrics/call-outcome.js';
import type { CallRecorder } from '../core/metrics/call-recorder.interface.js';
import { eventLabels } from '../core/metrics/event-labels.js';
import type { ResilienceRegistry } from '../core/registry/resilience-registry.js';

/** The meter's name: what a View or a filter of your SDK selects. */
export const METER_NAME = 'nest-resilience';

const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half_open', 'forced_open', 'disabled'];

/** Bucket boundaries advised for the call duration, in seconds (the same as the Prometheus histogram's). */
const DURATION_BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Options of the OpenTelemetry metrics. */
export interface OpenTelemetryMetricsOptions {
  /** Where the meter comes from. Default: the global one (`metrics.getMeterProvider()`), set by your SDK. */
  meterProvider?: MeterProvider;
}

/**
 * The instruments of nest-resilience on the OpenTelemetry meter `nest-resilience`, the same as the Prometheus ones
 * with dotted names: the call duration and events as they happen; breaker states, bulkhead occupancy and rate-limit
 * decisions observed when the SDK collects (one batch callback reading the registry, nothing per request). Without
 * an SDK the API is a no-op.
 */
export class OpenTelemetryMetrics implements CallRecorder {
  private readonly meter: Meter;
  private readonly duration: Histogram;
  private readonly events: Counter;
  private readonly observables: Observable[];
  private readonly observe: BatchObservableCallback;
  private readonly unsubscribe: () => void;
  /** One attributes object per target and outcome, made once: recording allocates nothing. */
  private readonly callAttributes = new Map<string, Partial<Record<CallOutcome, Attributes>>>();

  constructor(
    private readonly resilience: ResilienceRegistry,
    options: OpenTelemetryMetricsOptions = {},
  ) {
    const provider = options.meterProvider ?? metrics.getMeterProvider();
    this.meter = provider.getMeter(METER_NAME);
    const meter = this.meter;
    this.duration = meter.createHistogram('nest_resilience.call.duration', {
      description: 'Duration of calls to decorated methods, retries and fallback included, by outcome',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BOUNDARIES },
    });
    this.events = meter.createCounter('nest_resilience.events', {
      description: 'What the policies did: retries, timeouts, breaker transitions, rejections, fallbacks',
    });
    const breakerState = meter.createObservableGauge('nest_resilience.circuit_breaker.state', {
      description: 'Circuit breaker state: 1 for the current state, 0 for the others',
    });
    const bulkheadActive = meter.createObservableGauge('nest_resilience.bulkhead.active', {
      description: 'Calls running in the bulkhead',
    });
    const bulkheadQueued = meter.createObservableGauge('nest_resilience.bulkhead.queued', {
      description: 'Calls waiting for a bulkhead slot',
    });
    const decisions = meter.createObservableCounter('nest_resilience.rate_limit.decisions', {
      description: 'Rate-limit decisions: calls and requests allowed or refused',
    });
    this.observables = [breakerState, bulkheadActive, bulkheadQueued, decisions];
    this.observe = (result) => {
      for (const breaker of resilience.circuitBreakers.list()) {
        for (const state of CIRCUIT_STATES) {
          result.observe(breakerState, breaker.state === state ? 1 : 0, { name: breaker.name, state });
        }
      }
      for (const bulkhead of resilience.bulkheads.list()) {
        result.observe(bulkheadActive, bulkhead.active, { name: bulkhead.name });
        result.observe(bulkheadQueued, bulkhead.queued, { name: bulkhead.name });
      }
      for (const limit of resilience.rateLimits.list()) {
        result.observe(decisions, limit.allowed, { name: limit.name, decision: 'allowed' });
        result.observe(decisions, limit.refused, { name: limit.name, decision: 'refused' });
      }
    };
    meter.addBatchObservableCallback(this.observe, this.observables);
    const rateLimitNames = () => resilience.rateLimits.names();
    this.unsubscribe = resilience.events.subscribe((event) => {
      const labels = eventLabels(event, rateLimitNames);
      if (labels !== undefined) this.events.add(1, { kind: labels.kind, name: labels.name, event: labels.event });
    });
    resilience.targets.addRecorder(this);
  }

  /** Called for every measured call (by the measuring step of each target). */
  recordCall(target: string, outcome: CallOutcome, seconds: number): void {
    let byOutcome = this.callAttributes.get(target);
    if (byOutcome === undefined) this.callAttributes.set(target, (byOutcome = {}));
    this.duration.record(seconds, (byOutcome[outcome] ??= { target, outcome }));
  }

  /** Stops counting events and observing the registry (when the application shuts down). */
  close(): void {
    this.unsubscribe();
    this.meter.removeBatchObservableCallback(this.observe, this.observables);
  }
}
