import { ValueType } from '@opentelemetry/api';
import type {
  AggregationTemporality,
  CollectionResult,
  DataPoint,
  DataPointType,
  Histogram,
  HistogramMetricData,
  MetricProducer,
} from '@opentelemetry/sdk-metrics';
import type { TargetCallRecorder } from '../core/metrics/call-recorder.interface.js';
import { OptionsValidator, typeOf } from '../core/validation/options.validator.js';
import { TargetDurationCells } from './call-duration-cells.js';
import { CALL_DURATION, DURATION_BOUNDARIES } from './call-duration.instrument.js';
import { METER_NAME } from './meter-name.js';

// The SDK's enum values, written here so that this file imports `@opentelemetry/sdk-metrics` for its types only
// (the subpath loads with the API alone); a test holds them equal to the SDK's.
const DELTA = 0 as AggregationTemporality.DELTA;
const CUMULATIVE = 1 as AggregationTemporality.CUMULATIVE;
const HISTOGRAM_POINTS = 0 as DataPointType.HISTOGRAM;

/** Options of {@link ResilienceMetricProducer}. */
export interface ResilienceMetricProducerOptions {
  /**
   * `AggregationTemporality.CUMULATIVE` (default) or `AggregationTemporality.DELTA`, from
   * `@opentelemetry/sdk-metrics`: the one your reader's exporter asks for, which a producer cannot read from the
   * reader. A delta producer serves one reader: each collection empties it.
   */
  temporality?: AggregationTemporality;
  /**
   * Bucket boundaries of `nest_resilience.call.duration`, in seconds, increasing. Views do not apply to a producer's
   * metrics: this replaces a View's `ExplicitBucketHistogramAggregation`. Default: 0.005, 0.01, 0.025, 0.05, 0.1,
   * 0.25, 0.5, 1, 2.5, 5, 10 (the synchronous histogram's advice and the Prometheus buckets).
   */
  boundaries?: readonly number[];
}

const OPTION_NAMES = [
  'temporality',
  'boundaries',
] as const satisfies readonly (keyof ResilienceMetricProducerOptions)[];

type Resource = CollectionResult['resourceMetrics']['resource'];
/** An empty resource: the reader replaces a producer's resource with the SDK's own. */
const NO_RESOURCE: Resource = Object.freeze({
  attributes: Object.freeze({}),
  merge: (other: Resource | null): Resource => other ?? NO_RESOURCE,
  getRawAttributes: () => [],
});

/**
 * Exports `nest_resilience.call.duration` to an OpenTelemetry SDK as a `MetricProducer`, instead of a synchronous
 * histogram: per call it adds to arrays resolved once per target (no attribute hashing, no clock read, no
 * allocation), and it builds the histogram points (bucket counts, sum, count, min, max, start time) when the reader
 * collects. Same name, unit, description, attributes and boundaries as the synchronous instrument. Create it where
 * you create your reader, pass it to the reader's `metricProducers` and to
 * `ResilienceOpenTelemetryModule.forRoot({ metricProducer })`.
 *
 * Counts live in the producer, not in an application: a collection after the application shut down (the SDK's last
 * flush) still exports its calls, and applications sharing one producer add into the same series (as synchronous
 * instruments on one meter provider do). What a producer does not get from the SDK: Views (renames, attribute
 * filters, bucket changes: use `boundaries`), cardinality limits (its series are bounded by targets x outcomes) and
 * exemplars.
 *
 * @example
 * ```ts
 * export const resilienceMetrics = new ResilienceMetricProducer();
 * const reader = new PeriodicExportingMetricReader({ exporter, metricProducers: [resilienceMetrics] });
 * // in the module: ResilienceOpenTelemetryModule.forRoot({ metricProducer: resilienceMetrics })
 * ```
 */
export class ResilienceMetricProducer implements MetricProducer {
  /** The aggregation temporality of the points this producer exports. */
  readonly temporality: AggregationTemporality;
  private readonly boundaries: number[];
  private readonly descriptor: HistogramMetricData['descriptor'];
  private readonly targets = new Map<string, TargetDurationCells>();

  constructor(options: ResilienceMetricProducerOptions = {}) {
    const validator = new OptionsValidator(
      'metric producer',
      'ResilienceMetricProducer',
      'new ResilienceMetricProducer(...)',
    );
    validator.objectOptions('options', options, undefined, OPTION_NAMES);
    const { temporality = CUMULATIVE, boundaries = DURATION_BOUNDARIES } = options;
    if (temporality !== CUMULATIVE && temporality !== DELTA) {
      validator.fail(
        'temporality',
        temporality,
        'must be AggregationTemporality.CUMULATIVE or AggregationTemporality.DELTA ' +
          `(from @opentelemetry/sdk-metrics), got ${typeOf(temporality)}`,
      );
    }
    this.temporality = temporality;
    this.boundaries = validBoundaries(validator, boundaries);
    // The SDK's descriptor of a histogram (its type and advice too), so that exporters see the same metric.
    this.descriptor = {
      ...CALL_DURATION,
      type: 'HISTOGRAM',
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: this.boundaries },
    } as HistogramMetricData['descriptor'];
  }

  /**
   * The recorder of `target` (`Class.method`): asked once per target, when its pipeline is built. Applications that
   * share this producer and measure the same target get the same recorder.
   */
  forTarget(target: string): TargetCallRecorder {
    let cells = this.targets.get(target);
    if (cells === undefined) this.targets.set(target, (cells = new TargetDurationCells(target, this.boundaries)));
    return cells;
  }

  /**
   * The call duration histogram's points, read in one synchronous pass: a call counts in exactly one collection
   * (delta) or in every one from its own on (cumulative). No series before a target's first call with an outcome;
   * with delta temporality, none for an outcome without calls since the last collection (as the SDK does).
   */
  collect(): Promise<CollectionResult> {
    const nowMs = Date.now();
    const endTime = hrTime(nowMs);
    const delta = this.temporality === DELTA;
    const dataPoints: DataPoint<Histogram>[] = [];
    for (const target of this.targets.values()) {
      for (const cell of target.cells) {
        if (cell.count !== 0) {
          dataPoints.push({
            attributes: cell.attributes,
            startTime: hrTime(cell.startMs),
            endTime,
            value: {
              buckets: { boundaries: this.boundaries, counts: Array.from(cell.counts) },
              sum: cell.sum,
              count: cell.count,
              min: cell.min,
              max: cell.max,
            },
          });
        }
        // The next delta interval begins now, for an idle outcome too: its next point covers its calls since.
        if (delta) cell.reset(nowMs);
      }
    }
    const metric: HistogramMetricData = {
      descriptor: this.descriptor,
      aggregationTemporality: this.temporality,
      dataPointType: HISTOGRAM_POINTS,
      dataPoints,
    };
    return Promise.resolve({
      resourceMetrics: {
        resource: NO_RESOURCE,
        scopeMetrics: dataPoints.length === 0 ? [] : [{ scope: { name: METER_NAME, version: '' }, metrics: [metric] }],
      },
      errors: [],
    });
  }
}

/** `boundaries` as a new array, refused unless finite numbers in increasing order. */
function validBoundaries(validator: OptionsValidator, boundaries: unknown): number[] {
  const rule = 'must be an array of finite numbers of seconds in increasing order, such as [0.01, 0.1, 1]';
  if (!Array.isArray(boundaries)) return validator.fail('boundaries', boundaries, `${rule}, got ${typeOf(boundaries)}`);
  const values = boundaries as unknown[];
  values.forEach((value, index) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      validator.fail('boundaries', boundaries, `${rule}, got ${typeOf(value)} at index ${index}`);
    }
    if (index > 0 && value <= (values[index - 1] as number)) {
      validator.fail('boundaries', boundaries, `${rule}, got ${value} after ${values[index - 1] as number}`);
    }
  });
  return [...(values as number[])];
}

/** Milliseconds since the epoch as the SDK's `HrTime`: [seconds, nanoseconds]. */
function hrTime(ms: number): [number, number] {
  const seconds = Math.trunc(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}
