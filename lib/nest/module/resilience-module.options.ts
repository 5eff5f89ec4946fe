import type { ResilienceModuleBaseOptions } from '../options/resilience-module.options.js';
import type { NamedConfigurationsOf, PolicyDefaultsOf } from '../pipeline/canonical-order.js';

/**
 * Per-kind defaults that apply to every decorator of that kind, above the library defaults: one key per configurable
 * kind of the canonical order, holding part of its options: `timeout` (`@Timeout`), `retry` (`@Retry`),
 * `circuitBreaker` (`@CircuitBreaker`), `bulkhead` (`@Bulkhead`), `rateLimit` (`@RateLimit`). Derived from
 * `CANONICAL_ORDER`: a new kind adds its key.
 */
// An interface (not the alias) so that editors and the published .d.ts show this name.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ResiliencePolicyDefaults extends PolicyDefaultsOf {}

/**
 * Options of `ResilienceModule.forRoot()` / `forRootAsync()`.
 *
 * Each configurable kind of the canonical order has its named configurations, used by name in its decorator
 * (`timeouts`, `retries`, `circuitBreakers`, `bulkheads`, `rateLimits`: `@Retry('gateway')` reads
 * `retries.gateway`; every method naming a breaker, bulkhead or rate limit shares its state), and its module-wide
 * `defaults`. Precedence, lowest first: library defaults < `defaults.<kind>` < the decorator's inline options < the
 * named configuration the decorator refers to. Operators can therefore tune a named policy per environment without
 * touching code.
 */
export interface ResilienceModuleOptions extends ResilienceModuleBaseOptions, NamedConfigurationsOf {
  /** Module-wide defaults per policy kind. */
  defaults?: ResiliencePolicyDefaults;
}
