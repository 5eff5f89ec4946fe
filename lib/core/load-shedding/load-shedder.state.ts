import { LoadShedError, type LoadShedReason } from '../errors/load-shed.error.js';
import type { ResilienceEvents } from '../events/resilience-events.js';
import type { PolicyTarget } from '../events/resilience-event.interface.js';
import type { LoadSample, LoadSampler } from './load-sampler.interface.js';
import type { LoadSheddingOptions, RequestPriority } from './load-shedding.options.js';

/** What the load shedder knows now, as `LoadShedderState.snapshot()` reports it. */
export interface LoadSheddingSnapshot {
  /**
   * The pressure: 0 at or below every soft threshold, 1 at the hard threshold of the worst signal, above 1 past it.
   * Normal requests are shed with probability `min(1, level)`, sheddable ones with `min(1, 2 x level)`, critical ones
   * only from `1 + criticalMargin`.
   */
  readonly level: number;
  /** The signal furthest past its soft threshold, when `level` > 0. */
  readonly reason: LoadShedReason | undefined;
  /** The last sample. */
  readonly sample: LoadSample;
  /** Requests shed since the application started, per priority. */
  readonly shed: Readonly<Record<RequestPriority, number>>;
}

const SIGNALS: readonly [keyof LoadSample & keyof LoadSheddingOptions, LoadShedReason][] = [
  ['eventLoopDelay', 'event-loop-delay'],
  ['eventLoopUtilization', 'event-loop-utilization'],
  ['heapUsed', 'heap'],
];

const IDLE: LoadSample = { eventLoopDelay: 0, eventLoopUtilization: 0, heapUsed: 0 };

/**
 * Decides which requests an overloaded process refuses. The signals are sampled on an unref'd interval; a request
 * only reads the resulting level (one property read while the process is healthy) and, under pressure, draws a
 * random number against its priority's drop probability.
 */
export class LoadShedderState {
  private current = 0;
  private currentReason: LoadShedReason | undefined = undefined;
  private lastSample: LoadSample = IDLE;
  private readonly shedCount: Record<RequestPriority, number> = { critical: 0, normal: 0, sheddable: 0 };
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    readonly options: LoadSheddingOptions,
    private readonly sampler: LoadSampler,
    private readonly events: ResilienceEvents,
    private readonly random: () => number = Math.random,
  ) {
    this.timer = setInterval(() => this.sample(), options.sampleInterval);
    // The sampling must never keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  /** The pressure now: 0 when healthy (see {@link LoadSheddingSnapshot.level}). */
  get level(): number {
    return this.current;
  }

  /**
   * The refusal of a request of `priority` (reported as an event), or `undefined` when it may run. Call only when
   * {@link level} is above 0: below, every request runs.
   */
  shed(priority: RequestPriority, target: PolicyTarget): LoadShedError | undefined {
    const level = this.current;
    let refused: boolean;
    if (priority === 'critical') refused = level >= 1 + this.options.criticalMargin;
    else if (level >= 1) refused = true;
    else refused = this.random() < (priority === 'sheddable' ? 2 * level : level);
    if (!refused) return undefined;
    this.shedCount[priority]++;
    const reason = this.currentReason!;
    if (this.events.observed) {
      this.events.emit({ type: 'load-shed', policy: 'loadShedding', target, priority, reason, level });
    }
    return new LoadShedError(reason, priority, this.options.retryAfter);
  }

  /** Takes a sample now and updates the level (the interval calls this; tests may too). */
  sample(): void {
    const sample = this.sampler.sample();
    let level = 0;
    let reason: LoadShedReason | undefined;
    for (const [signal, name] of SIGNALS) {
      const thresholds = this.options[signal];
      if (thresholds === false) continue;
      const pressure = (sample[signal] - thresholds.soft) / (thresholds.hard - thresholds.soft);
      if (pressure > level) {
        level = pressure;
        reason = name;
      }
    }
    const wasShedding = this.current > 0;
    this.lastSample = sample;
    this.current = level;
    this.currentReason = reason;
    if (wasShedding !== level > 0 && this.events.observed) {
      this.events.emit({ type: 'load-pressure', level, reason, sample });
    }
  }

  snapshot(): LoadSheddingSnapshot {
    return { level: this.current, reason: this.currentReason, sample: this.lastSample, shed: { ...this.shedCount } };
  }

  /** Stops sampling (when the application shuts down). */
  close(): void {
    clearInterval(this.timer);
    this.sampler.close?.();
  }
}
