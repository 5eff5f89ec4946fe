import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CALL_OUTCOMES, type CallOutcome } from '../core/metrics/call-outcome.js';
import { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import { SAMPLE_INTERVAL_MS, SAMPLES_KEPT } from './dashboard.options.js';
import { TrendRing } from './trend-ring.js';

/** The trend series of one measured target, one value per second. */
interface TargetSeries {
  /** Calls finished in that second. */
  readonly calls: TrendRing;
  /** Share of those calls that failed (failure, timeout, short-circuited, rejected), 0 to 1; gap without calls. */
  readonly errors: TrendRing;
  /** Share of those calls answered by a fallback, 0 to 1; gap without calls. */
  readonly fallbacks: TrendRing;
  /** p50 and p99 of the latency window (the last 30 to 60 s) at that second, ms; gap when the window is empty. */
  readonly p50: TrendRing;
  readonly p99: TrendRing;
  /** Totals at the previous sample, to turn counters into per-second figures. */
  total: number;
  failed: number;
  fallback: number;
}

/** What one page receives of the trends: the samples after the one it has, per series. */
export interface DashboardTrends {
  /** The number of the last sample included (send it back as `since` to get only newer ones). */
  readonly seq: number;
  /** The number of the first sample included (`seq - count + 1`). */
  readonly from: number;
  /** Milliseconds between two samples. */
  readonly everyMs: number;
  readonly targets: Readonly<
    Record<string, Readonly<Record<'calls' | 'errors' | 'fallbacks' | 'p50' | 'p99', readonly (number | null)[]>>>
  >;
  /** In-flight calls and the limit (fixed or adaptive) of each bulkhead. */
  readonly bulkheads: Readonly<Record<string, Readonly<Record<'active' | 'limit', readonly (number | null)[]>>>>;
  /** Requests allowed and refused per second by each rate limit. */
  readonly rateLimits: Readonly<Record<string, Readonly<Record<'allowed' | 'refused', readonly (number | null)[]>>>>;
}

/** A dead-letter queue's depth at the last background read. */
export interface DeadLetterDepth {
  readonly depth: number;
  /** Epoch ms at which its oldest letter was dead-lettered (`undefined`: empty). */
  readonly oldestAt: number | undefined;
  /** Epoch ms of the read. */
  readonly readAt: number;
}

const FAILED: readonly CallOutcome[] = ['failure', 'timeout', 'short_circuited', 'rejected'];

/**
 * Five minutes of trends for the dashboard: a background sampler reads the registry once per second (never per
 * request, never per call: the hot paths only keep the counters they already had) into fixed rings, about 6 KB per
 * target, 2.4 KB per bulkhead or rate limit. Series exist for the application's own named policies and targets, so
 * their number is bounded too. The timer is unref'd and cleared at shutdown.
 */
@Injectable()
export class DashboardHistory implements OnModuleInit, OnApplicationShutdown {
  private seqNow = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly targets = new Map<string, TargetSeries>();
  private readonly bulkheads = new Map<string, { active: TrendRing; limit: TrendRing }>();
  private readonly rateLimits = new Map<
    string,
    { allowed: TrendRing; refused: TrendRing; lastAllowed: number; lastRefused: number }
  >();

  /** Depth and oldest letter of each dead-letter queue, read in the background (a store read may be slow). */
  private readonly letters = new Map<string, DeadLetterDepth>();
  private readingLetters = false;

  constructor(private readonly registry: ResilienceRegistry) {}

  /** The depth of each dead-letter queue at the last background read (`undefined`: not read yet, or unreadable). */
  deadLetterDepth(queue: string): DeadLetterDepth | undefined {
    return this.letters.get(queue);
  }

  /** The number of the last sample taken (0 before the first). */
  get seq(): number {
    return this.seqNow;
  }

  onModuleInit(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** @internal Takes one sample of every series (the timer calls it once per second). */
  sample(): void {
    const seq = ++this.seqNow;
    this.readDeadLetters();
    for (const state of this.registry.targets.list()) {
      let series = this.targets.get(state.name);
      if (series === undefined) {
        series = {
          calls: new TrendRing(0),
          errors: new TrendRing(3),
          fallbacks: new TrendRing(3),
          p50: new TrendRing(1),
          p99: new TrendRing(1),
          total: sum(state.outcomes, CALL_OUTCOMES),
          failed: sum(state.outcomes, FAILED),
          fallback: state.outcomes.fallback,
        };
        this.targets.set(state.name, series);
      }
      const { outcomes } = state;
      const total = sum(outcomes, CALL_OUTCOMES);
      const failed = sum(outcomes, FAILED);
      const calls = total - series.total;
      series.calls.set(seq, calls);
      series.errors.set(seq, calls > 0 ? (failed - series.failed) / calls : null);
      series.fallbacks.set(seq, calls > 0 ? (outcomes.fallback - series.fallback) / calls : null);
      series.p50.set(seq, state.p50);
      series.p99.set(seq, state.p99);
      series.total = total;
      series.failed = failed;
      series.fallback = outcomes.fallback;
    }
    for (const bulkhead of this.registry.bulkheads.list()) {
      let series = this.bulkheads.get(bulkhead.name);
      if (series === undefined)
        this.bulkheads.set(bulkhead.name, (series = { active: new TrendRing(0), limit: new TrendRing(0) }));
      series.active.set(seq, bulkhead.active);
      series.limit.set(seq, bulkhead.limit);
    }
    for (const limit of this.registry.rateLimits.list()) {
      let series = this.rateLimits.get(limit.name);
      if (series === undefined) {
        series = {
          allowed: new TrendRing(0),
          refused: new TrendRing(0),
          lastAllowed: limit.allowed,
          lastRefused: limit.refused,
        };
        this.rateLimits.set(limit.name, series);
      }
      series.allowed.set(seq, limit.allowed - series.lastAllowed);
      series.refused.set(seq, limit.refused - series.lastRefused);
      series.lastAllowed = limit.allowed;
      series.lastRefused = limit.refused;
    }
  }

  /**
   * Reads every dead-letter queue's depth, one read at a time: a store that stalls skips samples rather than piling
   * reads up; one that fails leaves the queue's depth unknown ("no data") rather than stale.
   */
  private readDeadLetters(): void {
    const names = this.registry.deadLetters.names();
    if (this.readingLetters || names.length === 0) return;
    this.readingLetters = true;
    const reads = names.map((name) =>
      this.registry.deadLetters.list(name).then(
        (letters) => {
          let oldest: number | undefined;
          for (const letter of letters)
            if (oldest === undefined || letter.deadLetteredAt < oldest) oldest = letter.deadLetteredAt;
          this.letters.set(name, { depth: letters.length, oldestAt: oldest, readAt: Date.now() });
        },
        () => {
          this.letters.delete(name);
        },
      ),
    );
    void Promise.all(reads).then(() => {
      this.readingLetters = false;
    });
  }

  /** The samples after `since` (all five minutes for `0`), for a page that has those up to `since`. */
  after(since: number): DashboardTrends {
    const last = this.seqNow;
    const from = Math.max(since + 1, 1);
    const targets: Record<string, Record<'calls' | 'errors' | 'fallbacks' | 'p50' | 'p99', (number | null)[]>> = {};
    for (const [name, s] of this.targets) {
      targets[name] = {
        calls: s.calls.after(since, last),
        errors: s.errors.after(since, last),
        fallbacks: s.fallbacks.after(since, last),
        p50: s.p50.after(since, last),
        p99: s.p99.after(since, last),
      };
    }
    const bulkheads: Record<string, Record<'active' | 'limit', (number | null)[]>> = {};
    for (const [name, s] of this.bulkheads)
      bulkheads[name] = { active: s.active.after(since, last), limit: s.limit.after(since, last) };
    const rateLimits: Record<string, Record<'allowed' | 'refused', (number | null)[]>> = {};
    for (const [name, s] of this.rateLimits) {
      rateLimits[name] = { allowed: s.allowed.after(since, last), refused: s.refused.after(since, last) };
    }
    return {
      seq: last,
      from: Math.max(from, last - SAMPLES_KEPT + 1),
      everyMs: SAMPLE_INTERVAL_MS,
      targets,
      bulkheads,
      rateLimits,
    };
  }
}

function sum(outcomes: Readonly<Record<CallOutcome, number>>, which: readonly CallOutcome[]): number {
  let total = 0;
  for (const outcome of which) total += outcomes[outcome];
  return total;
}
