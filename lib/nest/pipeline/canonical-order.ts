import { isConfigurable, type ConfigurableKind, type PolicyKind, type Stage } from './stage.js';
import { BULKHEAD_STAGE } from './stages/bulkhead.stage.js';
import { CHAOS_STAGE } from './stages/chaos.stage.js';
import { CIRCUIT_BREAKER_STAGE } from './stages/circuit-breaker.stage.js';
import { DEAD_LETTER_STAGE } from './stages/dead-letter.stage.js';
import { FALLBACK_STAGE } from './stages/fallback.stage.js';
import { HEDGE_STAGE } from './stages/hedge.stage.js';
import { IDEMPOTENT_STAGE } from './stages/idempotent.stage.js';
import { RATE_LIMIT_STAGE } from './stages/rate-limit.stage.js';
import { RETRY_STAGE } from './stages/retry.stage.js';
import { TIMEOUT_STAGE, TOTAL_TIMEOUT_STAGE } from './stages/timeout.stage.js';

/**
 * The canonical order, outermost first, whatever order the decorators are written in, and the only place the policy
 * kinds are listed: every other table (the module options' validator, `ResilienceService`'s options, the metadata
 * keys, the option types) is derived from it.
 *
 * `Idempotent( DeadLetter( Fallback( totalTimeout( Retry( Hedge( CircuitBreaker( RateLimit( Timeout( Bulkhead(`
 * `chaos( call )))))))))))`
 *
 * Idempotent stores what the caller finally got (on handlers it is a step of the handler pipeline outside these
 * policies); a dead letter is written only when even the fallback gave up; Fallback answers once everything else
 * gave up; the total timeout spans every attempt and backoff; retry sits outside the breaker (an open circuit fails
 * fast and is not retried); each hedged attempt goes through the breaker and gets its own per-attempt timeout; the
 * per-attempt timeout wraps the bulkhead, so queue wait counts against it; chaos is innermost, so every real policy
 * handles what it injects. On handlers the rate limit is a guard, before all of this.
 */
export const CANONICAL_ORDER = [
  IDEMPOTENT_STAGE,
  DEAD_LETTER_STAGE,
  FALLBACK_STAGE,
  TOTAL_TIMEOUT_STAGE,
  RETRY_STAGE,
  HEDGE_STAGE,
  CIRCUIT_BREAKER_STAGE,
  RATE_LIMIT_STAGE,
  TIMEOUT_STAGE,
  BULKHEAD_STAGE,
  CHAOS_STAGE,
] as const satisfies readonly Stage[];

/** The name of each stage, outermost first, as the docs write the order. */
export type StageName = (typeof CANONICAL_ORDER)[number]['name'];

/** Every kind once, in the canonical order (the timeout kind has two stages: total and per attempt). */
export const POLICY_KINDS: readonly PolicyKind[] = [...new Set(CANONICAL_ORDER.map((stage) => stage.kind))];

/** The kinds the module options configure (named configurations, `defaults`), in the canonical order. */
export const CONFIGURABLE_KINDS: readonly ConfigurableKind[] = POLICY_KINDS.filter(isConfigurable);

/** The configurable kinds as types, for the option types derived from them. */
export type ConfigurableKindOf = Extract<(typeof CANONICAL_ORDER)[number]['kind'], { configKey: string }>;

/** The metadata keys of every decorator that puts a policy on a method, for finding decorated methods. */
export const POLICY_METADATA_KEYS: readonly string[] = POLICY_KINDS.flatMap(({ metadataKey }) =>
  metadataKey === undefined ? [] : [metadataKey],
);

/** The configurable kind of each decorator's metadata key. */
export const KIND_OF_METADATA: ReadonlyMap<string, ConfigurableKind> = new Map(
  CONFIGURABLE_KINDS.map((kind) => [kind.metadataKey, kind]),
);

/**
 * The module-wide defaults of every configurable kind, derived from the order: `defaults.<defaultsKey>` holds part of
 * the kind's options (`defaults.retry: Partial<RetryOptions>`). A new kind in the order adds its key here.
 */
export type PolicyDefaultsOf<TKind extends ConfigurableKindOf = ConfigurableKindOf> = {
  [Kind in TKind as Kind['defaultsKey']]?: Partial<Kind['libraryDefaults']>;
};

/**
 * The named configurations of every configurable kind, derived from the order: `<configKey>.<name>` holds part of the
 * kind's options (`retries.gateway: Partial<RetryOptions>`), used as `@Retry('gateway')`.
 */
export type NamedConfigurationsOf<TKind extends ConfigurableKindOf = ConfigurableKindOf> = {
  [Kind in TKind as Kind['configKey']]?: Record<string, Partial<Kind['libraryDefaults']>>;
};
