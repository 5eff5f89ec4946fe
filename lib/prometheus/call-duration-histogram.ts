import { Histogram, type Registry } from 'prom-client';
import type { CallOutcome } from '../core/metrics/call-outcome.js';
import type { TargetCallRecorder } from '../core/metrics/call-recorder.interface.js';

/** What prom-client reads from a metric: the values of `get()`. */
type MetricData = Awaited<ReturnType<Histogram<'target' | 'outcome'>['get']>>;
/**
 * One line of the text format: the labels (`le` too for a bucket), the value, the line's metric name. For the text
 * format the target's labels are `sharedLabels`, one object per series that prom-client's registry formats once and
 * caches (as its own histogram's lines do); `get()` merges them into `labels`.
 */
interface MetricLine {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly sharedLabels?: DurationCell['labels'];
  readonly value: number;
  readonly metricName: string;
  /** prom-client's buckets carry one (null without exemplars). */
  readonly exemplar?: null;
}
/** What prom-client's `Metric` constructor assigns from the configuration (untyped in its declarations). */
interface MetricFields {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly aggregator: string;
}

/**
 * The calls of one target and one outcome: a count per bucket (not cumulative), the sum and the count. Written on the
 * call's path, read when Prometheus scrapes.
 */
class DurationCell {
  readonly perBucket: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: { readonly target: string; readonly outcome: CallOutcome },
    buckets: number,
  ) {
    this.perBucket = new Float64Array(buckets);
  }
}

/** The recorder of one target: its cells by outcome, created on the outcome's first call (as prom-client does). */
class TargetDurations implements TargetCallRecorder {
  readonly cells: DurationCell[] = [];
  private readonly byOutcome: Partial<Record<CallOutcome, DurationCell>> = {};

  constructor(
    private readonly target: string,
    private readonly bounds: readonly number[],
  ) {}

  recordCall(outcome: CallOutcome, seconds: number): void {
    const cell = this.byOutcome[outcome] ?? this.cellFor(outcome);
    const { bounds } = this;
    let bucket = 0;
    while (bucket < bounds.length && seconds > bounds[bucket]) bucket++;
    // Above the last bound: counted in +Inf only, which is the count.
    if (bucket < bounds.length) cell.perBucket[bucket]++;
    cell.sum += seconds;
    cell.count++;
  }

  private cellFor(outcome: CallOutcome): DurationCell {
    const cell = new DurationCell({ target: this.target, outcome }, this.bounds.length);
    this.byOutcome[outcome] = cell;
    this.cells.push(cell);
    return cell;
  }

  reset(): void {
    for (const cell of this.cells) {
      cell.perBucket.fill(0);
      cell.sum = cell.count = 0;
    }
  }
}

/**
 * `nest_resilience_call_duration_seconds`: a prom-client `Histogram` whose values are counted by nest-resilience, per
 * target, and read when Prometheus scrapes. prom-client's own `observe()` validates and hashes the label set on
 * every call, children included (about 0.5 µs); here a call finds its bucket in arrays resolved once per target at
 * bootstrap, and the scrape builds the same lines prom-client would (same labels in the same order, cumulative
 * buckets, `+Inf`, `_sum`, `_count`). Counts are cumulative, read in one synchronous pass: a scrape never loses or
 * counts twice a call. Its `observe`, `labels` and `startTimer` are not used: calls come through `forTarget`.
 */
export class CallDurationHistogram extends Histogram<'target' | 'outcome'> {
  private readonly targets: TargetDurations[] = [];
  private readonly bounds: readonly number[];

  constructor(name: string, help: string, buckets: readonly number[], registry: Registry) {
    const bounds = [...buckets].sort((a, b) => a - b);
    super({ name, help, labelNames: ['target', 'outcome'], buckets: bounds, registers: [registry] });
    this.bounds = bounds;
  }

  /** The recorder of `target`: one per target, made at bootstrap. */
  forTarget(target: string): TargetCallRecorder {
    const durations = new TargetDurations(target, this.bounds);
    this.targets.push(durations);
    return durations;
  }

  override get(): Promise<MetricData> {
    return Promise.resolve(this.read(false));
  }

  /** What prom-client's registry calls to write the text format: the series' labels shared, as its own histogram. */
  getForPromString(): Promise<MetricData> {
    return Promise.resolve(this.read(true));
  }

  override reset(): void {
    // prom-client's constructor calls reset() before this class's fields exist.
    for (const target of this.targets ?? []) target.reset();
  }

  private read(shared: boolean): MetricData {
    const { name, help, type, aggregator } = this as unknown as MetricFields;
    const { bounds } = this;
    const [bucketName, sumName, countName] = [`${name}_bucket`, `${name}_sum`, `${name}_count`];
    const values: MetricLine[] = [];
    // One `le` object per bound for every series of this scrape: the registry reads them, never writes them.
    const les = [...bounds, '+Inf'].map((le) => ({ le }));
    for (const target of this.targets) {
      for (const cell of target.cells) {
        let cumulative = 0;
        for (let bucket = 0; bucket < bounds.length; bucket++) {
          cumulative += cell.perBucket[bucket];
          values.push(line(les[bucket], cell.labels, shared, cumulative, bucketName, null));
        }
        values.push(
          line(les[bounds.length], cell.labels, shared, cell.count, bucketName, null),
          line({}, cell.labels, shared, cell.sum, sumName),
          line({}, cell.labels, shared, cell.count, countName),
        );
      }
    }
    // The shape of prom-client's own get(), which its declarations type loosely (MetricType, no `le`).
    return { name, help, type, values, aggregator } as unknown as MetricData;
  }
}

/**
 * A line of a series: for the text format its own labels (`le`) with the series' labels shared, which prom-client's
 * registry formats once per series object and caches; for `get()` (JSON, cluster aggregation) all merged, `le` first.
 */
function line(
  own: Readonly<Record<string, string | number>>,
  series: DurationCell['labels'],
  shared: boolean,
  value: number,
  metricName: string,
  exemplar?: null,
): MetricLine {
  return shared
    ? { labels: own, sharedLabels: series, value, metricName, exemplar }
    : { labels: { ...own, ...series }, value, metricName, exemplar };
}
