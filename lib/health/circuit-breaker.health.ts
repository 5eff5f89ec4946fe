import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import {
  defaultBreakerHealth,
  type BreakerHealthStatus,
  type CircuitBreakerHealthOptions,
} from './circuit-breaker-health.options.js';

const SEVERITY: Record<BreakerHealthStatus, number> = { up: 0, degraded: 1, down: 2 };

/**
 * A Terminus 12 health indicator reporting every circuit breaker with its state and rates. The indicator is as
 * unhealthy as its worst breaker: `down` fails the health check (HTTP 503), `degraded` keeps it at 200.
 *
 * @example
 * ```ts
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.breakers.check('circuitBreakers')]); }
 * ```
 */
@Injectable()
export class CircuitBreakerHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly registry: ResilienceRegistry,
  ) {}

  /** The health of the breakers under `key`, with `breakers: { [name]: { state, status, rates, ... } }`. */
  check<const Key extends string>(key: Key, options: CircuitBreakerHealthOptions = {}): HealthIndicatorResult<Key> {
    const statusOf = options.statusOf ?? defaultBreakerHealth;
    const include = options.include ? new Set(options.include) : undefined;
    let worst: BreakerHealthStatus = 'up';
    const breakers: Record<string, object> = {};
    for (const breaker of this.registry.circuitBreakers()) {
      if (include && !include.has(breaker.name)) continue;
      const status = statusOf(breaker);
      if (SEVERITY[status] > SEVERITY[worst]) worst = status;
      breakers[breaker.name] = {
        state: breaker.state,
        status,
        calls: breaker.calls,
        failureRate: round(breaker.failureRate),
        slowCallRate: round(breaker.slowCallRate),
        ...(breaker.openedAt !== undefined && { openedAt: new Date(breaker.openedAt).toISOString() }),
        ...(breaker.retryAt !== undefined && { retryAt: new Date(breaker.retryAt).toISOString() }),
      };
    }
    const session = this.indicators.check(key);
    const data = { breakers };
    if (worst === 'down') return session.down(data);
    if (worst === 'degraded') return session.degraded(data);
    return session.up(data);
  }
}

function round(percent: number): number {
  return Math.round(percent * 10) / 10;
}
