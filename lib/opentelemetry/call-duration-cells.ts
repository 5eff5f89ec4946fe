import type { Attributes } from '@opentelemetry/api';
import type { CallOutcome } from '../core/metrics/call-outcome.js';
import type { TargetCallRecorder } from '../core/metrics/call-recorder.interface.js';

/**
 * The calls of one target and one outcome since the series began (cumulative) or since the last collection (delta):
 * a count per bucket (not cumulative; the last one above every boundary), the sum, the count, the least and the
 * greatest duration. Written on the call's path, read when the SDK collects.
 */
export class DurationCell {
  /** One count per bucket: `boundaries.length + 1`, as the SDK's histogram points hold them. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;

  constructor(
    /** `{ target, outcome }`, made once: every collection exports this same object. */
    readonly attributes: Readonly<Attributes>,
    buckets: number,
    /** Where the point's interval begins (ms since the epoch): the first call, or the last delta collection. */
    public startMs: number,
  ) {
    this.counts = new Float64Array(buckets);
  }

  /** Empties the cell for the next delta interval, which begins at `startMs`. */
  reset(startMs: number): void {
    this.counts.fill(0);
    this.sum = this.count = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.startMs = startMs;
  }
}

/**
 * The recorder of one target: its cells by outcome, each created on the outcome's first call (as the SDK creates a
 * series on its first `record`). Per call: find the bucket, add; no hash, no clock, no allocation.
 */
export class TargetDurationCells implements TargetCallRecorder {
  readonly cells: DurationCell[] = [];
  private readonly byOutcome: Partial<Record<CallOutcome, DurationCell>> = {};

  constructor(
    private readonly target: string,
    private readonly boundaries: readonly number[],
  ) {}

  recordCall(outcome: CallOutcome, seconds: number): void {
    const cell = this.byOutcome[outcome] ?? this.cellFor(outcome);
    const { boundaries } = this;
    let bucket = 0;
    // Boundaries are inclusive upper bounds, as the SDK's: a duration equal to one counts in its bucket.
    while (bucket < boundaries.length && seconds > boundaries[bucket]) bucket++;
    cell.counts[bucket]++;
    cell.sum += seconds;
    cell.count++;
    if (seconds < cell.min) cell.min = seconds;
    if (seconds > cell.max) cell.max = seconds;
  }

  private cellFor(outcome: CallOutcome): DurationCell {
    const attributes = Object.freeze({ target: this.target, outcome });
    const cell = new DurationCell(attributes, this.boundaries.length + 1, Date.now());
    this.byOutcome[outcome] = cell;
    this.cells.push(cell);
    return cell;
  }
}
