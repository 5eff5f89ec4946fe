import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { BulkheadSnapshot } from '../core/bulkhead/bulkhead.state.js';
import type { CircuitBreakerSnapshot, CircuitState } from '../core/circuit-breaker/circuit-breaker.snapshot.js';
import type { TargetSnapshot } from '../core/metrics/target-metrics.state.js';
import type { RateLimitSnapshot } from '../core/rate-limit/rate-limit.state.js';
import { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import { TRANSITIONS_KEPT } from './dashboard.options.js';

/** One state change of a breaker, as the page lists it. */
export interface DashboardTransition {
  /** Epoch milliseconds. */
  readonly at: number;
  readonly from: CircuitState;
  readonly to: CircuitState;
  readonly reason: string;
}

/** What the page receives on every update. */
export interface DashboardSnapshot {
  /** Epoch milliseconds. */
  readonly at: number;
  readonly breakers: readonly (CircuitBreakerSnapshot & { readonly transitions: readonly DashboardTransition[] })[];
  readonly bulkheads: readonly BulkheadSnapshot[];
  readonly rateLimits: readonly RateLimitSnapshot[];
  readonly targets: readonly TargetSnapshot[];
}

/**
 * What the dashboard shows, read from the registry when a page asks; the last transitions of each breaker, from the
 * event stream (at most {@link TRANSITIONS_KEPT} per breaker, and breakers are the application's own: bounded).
 * Created with the other providers, so the pipelines built at bootstrap measure their targets for it.
 */
@Injectable()
export class DashboardFeed implements OnApplicationShutdown {
  private readonly transitions = new Map<string, DashboardTransition[]>();
  private readonly unsubscribe: () => void;

  constructor(private readonly registry: ResilienceRegistry) {
    registry.targets.enable();
    this.unsubscribe = registry.events.subscribe((event) => {
      if (event.type !== 'circuit-state') return;
      let kept = this.transitions.get(event.policy);
      if (kept === undefined) this.transitions.set(event.policy, (kept = []));
      kept.unshift({ at: Date.now(), from: event.from, to: event.to, reason: event.reason });
      if (kept.length > TRANSITIONS_KEPT) kept.pop();
    });
  }

  snapshot(): DashboardSnapshot {
    const { circuitBreakers, bulkheads, rateLimits, targets } = this.registry;
    return {
      at: Date.now(),
      breakers: circuitBreakers
        .list()
        .map((breaker) => ({ ...breaker, transitions: this.transitions.get(breaker.name) ?? [] })),
      bulkheads: bulkheads.list(),
      rateLimits: rateLimits.list(),
      targets: targets.list(),
    };
  }

  onApplicationShutdown(): void {
    this.unsubscribe();
  }
}
