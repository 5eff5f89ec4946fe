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
import { CALL_OUTCOMES, type CallOutcome } from '../core/metrics/call-outcome.js';
import type { CallRecorder, TargetCallRecorder } from '../core/metrics/call-recorder.interface.js';
import { eventLabels } from '../core/metrics/event-labels.js';
import { ResilienceConfigError } from '../core/errors/resilience-config.error.js';
import type { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import { OptionsValidator, typeOf } from '../core/validation/options.validator.js';
import { CALL_DURATION, DURATION_BOUNDARIES } from './call-duration.instrument.js';
import { METER_NAME } from './meter-name.js';
import { ResilienceMetricProducer } from './resilience-metric-producer.js';

export { METER_NAME };

const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half_open', 'forced_open', 'disabled'];

/** Options of the OpenTelemetry metrics. */
export interface OpenTelemetryMetricsOptions {
  /** Where the meter comes from. Default: the global one (`metrics.getMeterProvider()`), set by your SDK. */
  meterProvider?: MeterProvider;
  /**
   * Exports the call duration through this producer, registered on your reader's `metricProducers`, instead of a
   * synchronous histogram on the meter: about 1 µs less per call (the SDK hashes the attributes and reads the clock
   * on every `record`), at the price of Views. Default: none, the synchronous histogram. The other instruments stay
   * on the meter either way.
   */
  metricProducer?: ResilienceMetricProducer;
}

const OPTION_NAMES = [
  'meterProvider',
  'metricProducer',
] as const satisfies readonly (keyof OpenTelemetryMetricsOptions)[];

/**
 * The instruments of nest-resilience on the OpenTelemetry meter `nest-resilience`, the same as the Prometheus ones
 * with dotted names: the call duration (a synchronous histogram, or counted per target and read by the
 * {@link ResilienceMetricProducer} given as `metricProducer`) and events as they happen; breaker states, bulkhead
 * occupancy and rate-limit decisions observed when the SDK collects (one batch callback reading the registry, nothing
 * per request). Without an SDK the API is a no-op.
 */
export class OpenTelemetryMetrics implements CallRecorder {
  private readonly meter: Meter;
  /** Where the call durations go: the producer, or the synchronous histogram when none is given. */
  private readonly durations: ResilienceMetricProducer | Histogram;
  private readonly events: Counter;
  private readonly observables: Observable[];
  private readonly observe: BatchObservableCallback;
  private readonly unsubscribe: () => void;
  /** The recorders of the targets, for `recordCall` (an exporter that names the target per call). */
  private readonly byTarget = new Map<string, TargetCallRecorder>();

  constructor(
    private readonly resilience: ResilienceRegistry,
    options: OpenTelemetryMetricsOptions = {},
  ) {
    const producer = validMetricProducer(options);
    const provider = options.meterProvider ?? metrics.getMeterProvider();
    this.meter = provider.getMeter(METER_NAME);
    const meter = this.meter;
    this.durations =
      producer ??
      meter.createHistogram(CALL_DURATION.name, {
        description: CALL_DURATION.description,
        unit: CALL_DURATION.unit,
        advice: { explicitBucketBoundaries: [...DURATION_BOUNDARIES] },
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

  /** The recorder of one target, asked once at bootstrap: its attribute objects (or the producer's cells) bound. */
  forTarget(target: string): TargetCallRecorder {
    let recorder = this.byTarget.get(target);
    if (recorder === undefined) {
      const { durations } = this;
      recorder =
        durations instanceof ResilienceMetricProducer
          ? durations.forTarget(target)
          : new HistogramTargetRecorder(durations, target);
      this.byTarget.set(target, recorder);
    }
    return recorder;
  }

  /** Records one call of `target` (the measuring steps use `forTarget`'s recorder instead). */
  recordCall(target: string, outcome: CallOutcome, seconds: number): void {
    this.forTarget(target).recordCall(outcome, seconds);
  }

  /** Stops counting events and observing the registry (when the application shuts down). */
  close(): void {
    this.unsubscribe();
    this.meter.removeBatchObservableCallback(this.observe, this.observables);
  }
}

/** The synchronous mode's recorder of one target: one attributes object per outcome, made once. */
class HistogramTargetRecorder implements TargetCallRecorder {
  private readonly attributes = {} as Record<CallOutcome, Attributes>;

  constructor(
    private readonly histogram: Histogram,
    target: string,
  ) {
    for (const outcome of CALL_OUTCOMES) this.attributes[outcome] = Object.freeze({ target, outcome });
  }

  recordCall(outcome: CallOutcome, seconds: number): void {
    this.histogram.record(seconds, this.attributes[outcome]);
  }
}

/** `options.metricProducer`, checked: a typo or another object would silently fall back to the slower mode. */
function validMetricProducer(options: OpenTelemetryMetricsOptions): ResilienceMetricProducer | undefined {
  const validator = new OptionsValidator(
    'OpenTelemetry',
    'ResilienceOpenTelemetryModule',
    'ResilienceOpenTelemetryModule.forRoot(...)',
  );
  validator.objectOptions('options', options, undefined, OPTION_NAMES);
  const { metricProducer } = options;
  if (metricProducer === undefined || metricProducer instanceof ResilienceMetricProducer) return metricProducer;
  throw new ResilienceConfigError(
    `Invalid OpenTelemetry option "metricProducer" of ResilienceOpenTelemetryModule.forRoot(...): must be a ` +
      `ResilienceMetricProducer (from nest-resilience/opentelemetry), the one given to your reader's ` +
      `metricProducers, got ${typeOf(metricProducer)}` +
      (typeof metricProducer === 'object' && metricProducer !== null
        ? ` (${(metricProducer as object).constructor?.name ?? 'no class'})`
        : ''),
    'ResilienceOpenTelemetryModule',
  );
}
