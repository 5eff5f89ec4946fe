import type { ExecutionContext } from '@nestjs/common';
import type { FallbackFunction, FallbackOptions } from '../core/fallback/fallback.options.js';
import type { LastKnownGoodOptions } from '../core/fallback/last-known-good.options.js';

/**
 * The metadata contract between the decorators (which write it) and the Nest adapter (which reads it at bootstrap).
 * The adapter depends on this file; nothing here depends on the adapter.
 */

/** Metadata key of `@Timeout`. */
export const TIMEOUT_METADATA = 'nest-resilience:timeout';
/** Metadata key of `@Retry`. */
export const RETRY_METADATA = 'nest-resilience:retry';
/** Metadata key of `@CircuitBreaker`. */
export const CIRCUIT_BREAKER_METADATA = 'nest-resilience:circuit-breaker';
/** Metadata key of `@Bulkhead`. */
export const BULKHEAD_METADATA = 'nest-resilience:bulkhead';
/** Metadata key of `@RateLimit`. */
export const RATE_LIMIT_METADATA = 'nest-resilience:rate-limit';
/** Metadata key of `@SkipRateLimit`. */
export const SKIP_RATE_LIMIT_METADATA = 'nest-resilience:skip-rate-limit';
/** What `@SkipRateLimit` records: `true` (every inherited limit) or the names of the limits skipped. */
export type SkippedRateLimits = true | readonly string[];
/** Metadata key of `@Fallback`. */
export const FALLBACK_METADATA = 'nest-resilience:fallback';
/** Metadata key of `@DeadLetter`. */
export const DEAD_LETTER_METADATA = 'nest-resilience:dead-letter';

/** Metadata key of `@Idempotent`. */
export const IDEMPOTENT_METADATA = 'nest-resilience:idempotent';

/** Metadata key of `@Hedge`. */
export const HEDGE_METADATA = 'nest-resilience:hedge';
/** Metadata key of `@Priority` (on a handler or a class). */
export const PRIORITY_METADATA = 'nest-resilience:priority';
/** Metadata key of `@SkipLoadShedding` (on a handler or a class). */
export const SKIP_LOAD_SHEDDING_METADATA = 'nest-resilience:skip-load-shedding';

/** Metadata key (on the prototype, per method) of the parameter index of `@TimeoutSignal()`. */
export const TIMEOUT_SIGNAL_PARAMETER = 'nest-resilience:timeout-signal-parameter';

/** Marks a function that nest-resilience produced, so a method is never wrapped twice. */
export const RESILIENT_WRAPPER = Symbol('nest-resilience:wrapper');

/** What a policy decorator records: a configuration name, inline options, or both. */
export interface PolicySpec<TOptions> {
  /** Name of a configuration in the module options (for example `retries.payments`). */
  readonly name?: string;
  /** Inline options; a named configuration overrides them field by field. */
  readonly options?: Partial<TOptions>;
}

/**
 * Whose tokens a handler's request spends: `'ip'` (the client's address: HTTP and GraphQL requests, WebSocket
 * clients; microservice messages have none and share one bucket), `'global'` (one bucket), or a function of the
 * request's `ExecutionContext` (e.g. the authenticated user's id).
 */
export type HandlerRateLimitKey = 'ip' | 'global' | ((context: ExecutionContext) => string);

/** What one recorded step of a `@Fallback` chain does. */
export type FallbackStepSpec = FallbackOptions &
  (
    | { readonly method: string }
    | { readonly fn: FallbackFunction }
    | { readonly value: unknown }
    | { readonly lastKnownGood: Partial<LastKnownGoodOptions> }
  );

/** What `@Fallback` records: the chain, first step first, and the filter of the whole chain. */
export interface FallbackSpec extends FallbackOptions {
  readonly steps: readonly FallbackStepSpec[];
}
