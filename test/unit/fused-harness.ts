/**
 * What the fused-path specs share (test/unit/fused-promise.spec.ts, fused-observable.spec.ts): the six policies in
 * the canonical order with fresh state, and a wrapper that keeps a policy out of every fused run.
 */
import { MemoryRateLimitStore, type ResilienceEvents, type RateLimitStore } from '../../lib/index.js';
import { DEFAULT_BULKHEAD_OPTIONS } from '../../lib/core/bulkhead/bulkhead.options.js';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from '../../lib/core/circuit-breaker/circuit-breaker.options.js';
import { DEFAULT_RATE_LIMIT_OPTIONS } from '../../lib/core/rate-limit/rate-limit.options.js';
import { DEFAULT_RETRY_OPTIONS } from '../../lib/core/retry/retry.options.js';
import { CircuitBreakerState } from '../../lib/core/circuit-breaker/circuit-breaker.state.js';
import { BulkheadState } from '../../lib/core/bulkhead/bulkhead.state.js';
import { BulkheadPolicy } from '../../lib/core/bulkhead/bulkhead.policy.js';
import { CircuitBreakerPolicy } from '../../lib/core/circuit-breaker/circuit-breaker.policy.js';
import { FallbackPolicy } from '../../lib/core/fallback/fallback.policy.js';
import type { ResiliencePolicy } from '../../lib/core/pipeline/policy.interface.js';
import { RateLimitPolicy } from '../../lib/core/rate-limit/rate-limit.policy.js';
import { RateLimitState } from '../../lib/core/rate-limit/rate-limit.state.js';
import { RetryPolicy } from '../../lib/core/retry/retry.policy.js';
import { TimeoutPolicy } from '../../lib/core/timeout/timeout.policy.js';

export class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

export interface Knobs {
  limit?: number;
  maxWait?: number;
  store?: RateLimitStore;
  keyOf?: () => string;
  maxConcurrent?: number;
  maxQueue?: number;
  timeout?: number;
  breakerOpen?: boolean;
  consecutiveFailures?: number;
  fallback?: boolean;
  remember?: (value: unknown) => void;
  recordIf?: (error: unknown) => boolean;
  /** Only the timeout, alone (it fuses on its own too). */
  timeoutOnly?: boolean;
}

/** The six policies in the canonical order, with fresh state, and handles on that state. */
export function sixPolicies(bus: ResilienceEvents, knobs: Knobs) {
  const breaker = new CircuitBreakerState(
    'breaker',
    {
      ...DEFAULT_CIRCUIT_BREAKER_OPTIONS,
      consecutiveFailures: knobs.consecutiveFailures ?? 5,
      ...(knobs.recordIf && { recordIf: knobs.recordIf }),
    },
    bus,
  );
  if (knobs.breakerOpen) breaker.forceOpen();
  const bulkhead = new BulkheadState(
    'pool',
    { ...DEFAULT_BULKHEAD_OPTIONS, maxConcurrent: knobs.maxConcurrent ?? 10, maxQueue: knobs.maxQueue ?? 0 },
    bus,
  );
  const limiter = new RateLimitState(
    'quota',
    { ...DEFAULT_RATE_LIMIT_OPTIONS, limit: knobs.limit ?? 1000, interval: 1000, maxWait: knobs.maxWait ?? 0 },
    knobs.store ?? new MemoryRateLimitStore(),
  );
  const policies: ResiliencePolicy[] = [
    new RetryPolicy('retry', { ...DEFAULT_RETRY_OPTIONS, maxAttempts: 3, initialDelay: 10, jitter: 'none' }, bus),
    new CircuitBreakerPolicy(breaker),
    new RateLimitPolicy(limiter, knobs.keyOf ?? (() => 'global'), [], bus),
    new TimeoutPolicy('timeout', knobs.timeout ?? 100, 'attempt', bus),
    new BulkheadPolicy(bulkhead),
  ];
  if (knobs.timeoutOnly) policies.splice(0, policies.length, policies[3]);
  else if (knobs.fallback !== false) {
    const remember = knobs.remember;
    policies.unshift(
      new FallbackPolicy(
        'fallback',
        () => 'fallback',
        undefined,
        bus,
        remember === undefined ? {} : { remember: (_invocation, value) => remember(value) },
      ),
    );
  }
  return { policies, breaker, bulkhead };
}

/** A policy behind a wrapper of another class: composed step by step, never fused. */
export function unfused(policy: ResiliencePolicy): ResiliencePolicy {
  return {
    name: policy.name,
    wrapPromise: (next) => policy.wrapPromise(next),
    wrapObservable: (next) => policy.wrapObservable(next),
  };
}
