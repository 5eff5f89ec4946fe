import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ResilienceConfigError } from '../core/errors/resilience-config.error.js';
import { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import type { TargetSnapshot } from '../core/metrics/target-metrics.state.js';
import { didYouMean } from '../core/validation/did-you-mean.js';
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
export class CircuitBreakerHealthIndicator implements OnApplicationBootstrap {
  /** The `include` lists of checks declared with {@link define}, checked once every breaker exists. */
  private readonly declaredIncludes: { key: string; include: readonly string[] }[] = [];

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly registry: ResilienceRegistry,
  ) {}

  /**
   * Declares a check up front (in the health controller's constructor) and returns it for `health.check([...])`.
   * Its `include` names are checked at bootstrap, once every breaker exists: a misspelt name stops the app.
   *
   * @example `this.gatewayHealth = breakers.define('gateway', { include: ['gateway'] });`
   */
  define<const Key extends string>(
    key: Key,
    options: CircuitBreakerHealthOptions = {},
  ): () => HealthIndicatorResult<Key> {
    if (options.include) this.declaredIncludes.push({ key, include: options.include });
    return () => this.check(key, options);
  }

  /** Every breaker exists once the modules are initialised: a declared `include` naming none of them is a mistake. */
  onApplicationBootstrap(): void {
    const known = this.registry.circuitBreakers.list().map((breaker) => breaker.name);
    for (const { key, include } of this.declaredIncludes) {
      for (const name of include) {
        if (known.includes(name)) continue;
        throw new ResilienceConfigError(
          `The health check "${key}" includes "${name}", which is not a circuit breaker of this application.` +
            `${didYouMean(name, known)} Known: ${known.map((each) => `"${each}"`).join(', ') || 'none'}`,
          name,
        );
      }
    }
  }

  /** The health of the breakers under `key`, with `breakers: { [name]: { state, status, rates, ... } }`. */
  check<const Key extends string>(key: Key, options: CircuitBreakerHealthOptions = {}): HealthIndicatorResult<Key> {
    const statusOf = options.statusOf ?? defaultBreakerHealth;
    const include = options.include ? new Set(options.include) : undefined;
    let worst: BreakerHealthStatus = 'up';
    const breakers: Record<string, object> = {};
    for (const breaker of this.registry.circuitBreakers.list()) {
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
    // Latency of each measured target, when call metrics are on (an empty list adds nothing).
    const measured = this.registry.targets.list();
    const data: { breakers: Record<string, object>; targets?: Record<string, object> } = { breakers };
    if (measured.length > 0) data.targets = targetDetails(measured);
    if (worst === 'down') return session.down(data);
    if (worst === 'degraded') return session.degraded(data);
    return session.up(data);
  }
}

/** p50/p95/p99 (ms), calls in the window and per second, for each measured target. */
function targetDetails(targets: readonly TargetSnapshot[]): Record<string, object> {
  const details: Record<string, object> = {};
  for (const { name, p50, p95, p99, count, callsPerSecond } of targets) {
    details[name] = { p50, p95, p99, count, callsPerSecond };
  }
  return details;
}

function round(percent: number): number {
  return Math.round(percent * 10) / 10;
}
