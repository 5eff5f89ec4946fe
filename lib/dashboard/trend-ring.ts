import { SAMPLES_KEPT } from './dashboard.options.js';

/**
 * The last {@link SAMPLES_KEPT} values of one series, one per background sample, in a fixed typed array (1.2 KB):
 * bounded in count and bytes whatever the traffic. Sample numbers (`seq`) are shared by every series of a history,
 * so a page asks for "everything after the sample I have" once for all of them.
 */
export class TrendRing {
  private readonly values = new Float32Array(SAMPLES_KEPT).fill(Number.NaN);
  private readonly scale: number;

  /** `decimals`: what the page needs (calls: 0, rates: 3, ms: 1); fewer digits, fewer bytes sent. */
  constructor(decimals: number) {
    this.scale = 10 ** decimals;
  }

  /** Stores the value of sample `seq` (`null`: nothing measured, drawn as a gap). */
  set(seq: number, value: number | null): void {
    this.values[seq % SAMPLES_KEPT] = value === null ? Number.NaN : value;
  }

  /**
   * The values of the samples after `since` up to `last` (at most {@link SAMPLES_KEPT}), oldest first; `null` where
   * nothing was measured or the series did not exist yet.
   */
  after(since: number, last: number): (number | null)[] {
    const first = Math.max(since + 1, last - SAMPLES_KEPT + 1, 1);
    const out: (number | null)[] = [];
    for (let seq = first; seq <= last; seq++) {
      const value = this.values[seq % SAMPLES_KEPT];
      out.push(Number.isNaN(value) ? null : Math.round(value * this.scale) / this.scale);
    }
    return out;
  }
}
