import { Injectable, Optional, type OnApplicationShutdown } from '@nestjs/common';
import type { BulkheadSnapshot } from '../core/bulkhead/bulkhead.state.js';
import type { ChaosSnapshot } from '../core/chaos/chaos.state.js';
import type { CircuitBreakerSnapshot, CircuitState } from '../core/circuit-breaker/circuit-breaker.snapshot.js';
import type { DeadLetterQueueSnapshot } from '../core/dead-letter/dead-letter.queue.js';
import type { IdempotencySnapshot } from '../core/idempotency/idempotency-stats.js';
import { LoadShedderState, type LoadSheddingSnapshot } from '../core/load-shedding/load-shedder.state.js';
import type { TargetSnapshot } from '../core/metrics/target-metrics.state.js';
import type { OutboxSnapshot } from '../core/outbox/outbox.state.js';
import type { RateLimitSnapshot } from '../core/rate-limit/rate-limit.state.js';
import { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import type { RetryBudgetSnapshot } from '../core/retry/retry-budget.state.js';
import { DashboardHistory, type DashboardTrends } from './dashboard.history.js';
import { TRANSITIONS_KEPT } from './dashboard.options.js';

/** One state change of a breaker, as the page lists it. */
export interface DashboardTransition {
  /** Epoch milliseconds (the server's clock: shown as a time of day). */
  readonly at: number;
  /** Milliseconds before the snapshot (durations, not instants, place it on the page's timeline). */
  readonly agoMs: number;
  readonly from: CircuitState;
  readonly to: CircuitState;
  readonly reason: string;
}

/** A breaker as the page shows it. */
export interface DashboardBreaker extends CircuitBreakerSnapshot {
  /** Its last transitions, newest first (at most 50). */
  readonly transitions: readonly DashboardTransition[];
  /** While open: milliseconds until it lets a probe through (a duration: the browser's clock may differ). */
  readonly probeInMs?: number;
  /** While not closed: milliseconds since it opened. */
  readonly openForMs?: number;
}

/** A dead-letter queue as the page shows it. */
export interface DashboardDeadLetterQueue extends DeadLetterQueueSnapshot {
  /** Letters in the queue at the last background read (once per second); `null` before the first or if it failed. */
  readonly depth: number | null;
  /** Age of its oldest letter in milliseconds; `null` when empty or unknown. */
  readonly oldestAgeMs: number | null;
}

/** What the page receives with the HTML and on every update. */
export interface DashboardSnapshot {
  /** Epoch milliseconds. */
  readonly at: number;
  readonly breakers: readonly DashboardBreaker[];
  readonly bulkheads: readonly BulkheadSnapshot[];
  readonly rateLimits: readonly RateLimitSnapshot[];
  readonly targets: readonly TargetSnapshot[];
  readonly retryBudgets: readonly RetryBudgetSnapshot[];
  /** Chaos experiments, and whether the operator paused them all. */
  readonly chaos: { readonly paused: boolean; readonly experiments: readonly ChaosSnapshot[] };
  /** `null` unless the module option `loadShedding` is on. */
  readonly loadShedding: LoadSheddingSnapshot | null;
  readonly deadLetters: readonly DashboardDeadLetterQueue[];
  /** Every `@Idempotent` handler's counters (this process). */
  readonly idempotency: readonly IdempotencySnapshot[];
  /** Every `RmqPublisher`'s outbox: depth as its store last answered, counters of this process. */
  readonly outboxes: readonly OutboxSnapshot[];
  /** The trend samples after the one the page already has. */
  readonly trends: DashboardTrends;
}

/**
 * What the dashboard shows, read from the registry when a page asks, plus the background trends; the last
 * transitions of each breaker, from the event stream (at most {@link TRANSITIONS_KEPT} per breaker, and breakers are
 * the application's own: bounded). Created with the other providers, so the pipelines built at bootstrap measure
 * their targets for it.
 */
@Injectable()
export class DashboardFeed implements OnApplicationShutdown {
  private readonly transitions = new Map<
    string,
    { at: number; from: CircuitState; to: CircuitState; reason: string }[]
  >();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly registry: ResilienceRegistry,
    private readonly history: DashboardHistory,
    @Optional() private readonly shedder: LoadShedderState | null = null,
  ) {
    registry.targets.enable();
    this.unsubscribe = registry.events.subscribe((event) => {
      if (event.type !== 'circuit-state') return;
      let kept = this.transitions.get(event.policy);
      if (kept === undefined) this.transitions.set(event.policy, (kept = []));
      kept.unshift({ at: Date.now(), from: event.from, to: event.to, reason: event.reason });
      if (kept.length > TRANSITIONS_KEPT) kept.pop();
    });
  }

  /** Everything the page shows now, with the trend samples after `since` (all of them for `0`). */
  snapshot(since = 0): DashboardSnapshot {
    const { circuitBreakers, bulkheads, rateLimits, targets, retryBudgets, chaos, deadLetters, idempotency, outboxes } =
      this.registry;
    const at = Date.now();
    return {
      at,
      breakers: circuitBreakers.list().map((breaker) => ({
        ...breaker,
        transitions: (this.transitions.get(breaker.name) ?? []).map((t) => ({ ...t, agoMs: at - t.at })),
        probeInMs: breaker.retryAt === undefined ? undefined : Math.max(0, breaker.retryAt - at),
        openForMs: breaker.openedAt === undefined ? undefined : Math.max(0, at - breaker.openedAt),
      })),
      bulkheads: bulkheads.list(),
      rateLimits: rateLimits.list(),
      targets: targets.list(),
      retryBudgets: retryBudgets.list(),
      chaos: { paused: chaos.paused, experiments: chaos.list() },
      loadShedding: this.shedder?.snapshot() ?? null,
      deadLetters: deadLetters.snapshots().map((queue) => {
        const read = this.history.deadLetterDepth(queue.name);
        return {
          ...queue,
          depth: read?.depth ?? null,
          oldestAgeMs: read?.oldestAt === undefined ? null : Math.max(0, at - read.oldestAt),
        };
      }),
      idempotency: idempotency.list(),
      outboxes: outboxes.list(),
      trends: this.history.after(since),
    };
  }

  onApplicationShutdown(): void {
    this.unsubscribe();
  }
}
