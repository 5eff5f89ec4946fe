import { LoadShedError, type LoadShedReason } from '../errors/load-shed.error.js';
import type { ResilienceEvents } from '../events/resilience-events.js';
import type { PolicyTarget } from '../events/resilience-event.interface.js';
import type { LoadSample, LoadSampler } from './load-sampler.interface.js';
import type { LoadSheddingOptions, RequestPriority } from './load-shedding.options.js';

/** What the load shedder knows now, as `LoadShedderState.snapshot()` reports it. */
export interface LoadSheddingSnapshot {
  /**
   * The pressure of the last sample: 0 at or below every soft threshold, 1 at the hard threshold of the worst signal,
   * above 1 past it. Sheddable requests are all shed from 1, critical ones from `1 + criticalMargin`.
   */
  readonly level: number;
  /**
   * The share of normal requests shed now (sheddable ones: twice that). It follows the level from sample to sample
   * rather than being a function of the last one: see {@link LoadShedderState}.
   */
  readonly dropProbability: number;
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

/** The level the drop probability steers toward: the middle between the soft and the hard thresholds. */
const TARGET_LEVEL = 0.5;
/**
 * How far one sample moves the drop probability per unit of level off the target. Small enough that the loop does not
 * overshoot (with the default utilisation band, 0.9 to 0.98, one point of drop probability moves the level by 12 to
 * 50 points at 1x to 4x load), large enough to go from 0 to 0.75 in about five seconds at the default interval.
 */
const GAIN = 0.05;
/** The level's influence on one step is capped: far past a threshold says no more about how much to shed. */
const MIN_STEP_LEVEL = -1;
const MAX_STEP_LEVEL = 2;
/** The share of the remaining gap to 1 the drop probability closes per sample while the loop stays saturated. */
const SATURATED_SHARE = 0.25;
/**
 * The share of the drop probability taken off per sample while every signal stays below its soft threshold: the
 * process has room, and the integrator alone would take 12 s to get from 1 back to 0 (its step is bounded by the
 * signal nearest its threshold, and an idle loop's delay of 0 ms is only a third of the band below the default soft
 * 50 ms). With it, 1 falls to 0 within eight samples (four seconds at the default interval).
 */
const IDLE_SHARE = 0.25;

/**
 * Decides which requests an overloaded process refuses. The signals are sampled on an unref'd interval; a request
 * only reads whether shedding is on (one property read while the process is healthy) and, under pressure, draws a
 * random number against its priority's drop probability.
 *
 * The drop probability is a controller, not a function of the last sample: each sample moves it up while the level
 * is above the middle of the soft-to-hard band and down while below, by `0.05 x (level - 0.5)`. A probability read
 * straight off each sample swings between all and nothing: shedding makes the next sample look idle (refusals cost
 * next to nothing), which admits everything, which overloads the sample after. Steered this way, the process settles
 * in the band, serving about as much as it can while refusing the rest early.
 */
export class LoadShedderState {
  private current = 0;
  private drop = 0;
  private active = false;
  private currentReason: LoadShedReason | undefined = undefined;
  private lastSample: LoadSample = IDLE;
  private readonly shedCount: Record<RequestPriority, number> = { critical: 0, normal: 0, sheddable: 0 };
  private readonly timer: ReturnType<typeof setInterval>;
  /** When the last sample was taken (`performance.now()`). */
  private sampledAt = performance.now();

  constructor(
    readonly options: LoadSheddingOptions,
    private readonly sampler: LoadSampler,
    private readonly events: ResilienceEvents,
    private readonly random: () => number = Math.random,
  ) {
    this.timer = setInterval(() => this.sampleIfDue(0.9), options.sampleInterval);
    // The sampling must never keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  /** The pressure of the last sample: 0 when healthy (see {@link LoadSheddingSnapshot.level}). */
  get level(): number {
    return this.current;
  }

  /** The share of normal requests shed now (see {@link LoadSheddingSnapshot.dropProbability}). */
  get dropProbability(): number {
    return this.drop;
  }

  /** Whether any request may be shed now; false while the process is healthy, and then every request runs. */
  get shedding(): boolean {
    return this.active;
  }

  /**
   * The refusal of a request of `priority` (reported as an event), or `undefined` when it may run. Call only while
   * {@link shedding}: otherwise every request runs.
   */
  shed(priority: RequestPriority, target: PolicyTarget): LoadShedError | undefined {
    // A saturated event loop runs its timers late (a loop turn can take seconds under a deep backlog), so the
    // interval alone would steer seldom just when it matters: under pressure the requests take the overdue samples.
    this.sampleIfDue(1);
    const level = this.current;
    let refused: boolean;
    if (priority === 'critical') refused = level >= 1 + this.options.criticalMargin;
    else if (priority === 'sheddable') refused = level >= 1 || this.random() < 2 * this.drop;
    else refused = this.random() < this.drop;
    if (!refused) return undefined;
    this.shedCount[priority]++;
    const reason = this.currentReason!;
    if (this.events.observed) {
      this.events.emit({ type: 'load-shed', policy: 'loadShedding', target, priority, reason, level });
    }
    return new LoadShedError(reason, priority, this.options.retryAfter);
  }

  /** Samples when the last sample is at least `share` of `sampleInterval` old. */
  private sampleIfDue(share: number): void {
    if (performance.now() - this.sampledAt >= share * this.options.sampleInterval) this.sample();
  }

  /** Takes a sample now and updates the level (the interval calls this; tests may too). */
  sample(): void {
    this.sampledAt = performance.now();
    const sample = this.sampler.sample();
    // The worst signal's pressure, negative below its soft threshold: how far below says how fast to stop shedding.
    let worst = -Infinity;
    let reason: LoadShedReason | undefined;
    for (const [signal, name] of SIGNALS) {
      const thresholds = this.options[signal];
      if (thresholds === false) continue;
      const pressure = (sample[signal] - thresholds.soft) / (thresholds.hard - thresholds.soft);
      if (pressure > worst) {
        worst = pressure;
        if (pressure > 0) reason = name;
      }
    }
    const level = Math.max(0, worst);
    // Past hard twice in a row, the loop is saturated, and a saturated loop's utilisation (1) no longer says by how
    // much: also close a quarter of the remaining gap to 1 per sample (0 to 0.75 within five samples at 4x), the
    // integrator alone steering again once the level comes back into the band.
    const saturated = worst >= 1 && this.current >= 1;
    // Mirrored: below every soft threshold twice in a row, the process has room: also give back a quarter of the
    // drop probability per sample, so that an idle process admits everything again within a few seconds.
    const idle = worst < 0 && this.current === 0;
    const step = Math.min(MAX_STEP_LEVEL, Math.max(MIN_STEP_LEVEL, worst)) - TARGET_LEVEL;
    let drop = this.drop + GAIN * step;
    if (saturated) drop += SATURATED_SHARE * (1 - this.drop);
    else if (idle) drop -= IDLE_SHARE * this.drop;
    // Below a billionth is none: sums of 0.05 steps leave float dust that would keep shedding switched on.
    this.drop = drop < 1e-9 ? 0 : Math.min(1, drop);
    const wasShedding = this.active;
    this.lastSample = sample;
    this.current = level;
    // The reason stays the last signal that was past its soft threshold while shedding winds down below it.
    if (reason !== undefined || this.drop === 0) this.currentReason = reason;
    this.active = this.drop > 0 || level >= 1;
    if (wasShedding !== this.active && this.events.observed) {
      this.events.emit({ type: 'load-pressure', level, reason, sample });
    }
  }

  snapshot(): LoadSheddingSnapshot {
    return {
      level: this.current,
      dropProbability: this.drop,
      reason: this.currentReason,
      sample: this.lastSample,
      shed: { ...this.shedCount },
    };
  }

  /** Stops sampling (when the application shuts down). */
  close(): void {
    clearInterval(this.timer);
    this.sampler.close?.();
  }
}
