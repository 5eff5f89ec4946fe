import type { CircuitState } from '../circuit-breaker/circuit-breaker.snapshot.js';
import type { ResilienceEvent } from '../events/resilience-event.interface.js';

/** The labels of one event in the events counter: which kind of policy, which one, what happened. */
export interface EventLabels {
  /** `timeout`, `retry`, `circuit_breaker`, `bulkhead`, `rate_limit`, `fallback`, `outbox`. */
  readonly kind: string;
  /** The policy's name (a configuration name or `Class.method`): bounded by the application's code. */
  readonly name: string;
  /** What happened, e.g. `retry`, `timeout`, `opened`, `half_opened`, `closed`, `rejected`, `fallback`. */
  readonly event: string;
}

const TRANSITION: Record<CircuitState, string> = {
  open: 'opened',
  half_open: 'half_opened',
  closed: 'closed',
  forced_open: 'forced_open',
  disabled: 'disabled',
};

/**
 * The counter labels of `event`, or `undefined` for events that name no policy (the store recovering). A store
 * error names a bucket key (`limit:caller`), which is unbounded: only the limit's name is kept, found among
 * `rateLimitNames`.
 */
export function eventLabels(event: ResilienceEvent, rateLimitNames: () => readonly string[]): EventLabels | undefined {
  switch (event.type) {
    case 'retry':
      return { kind: 'retry', name: event.policy, event: 'retry' };
    case 'timeout':
      return { kind: 'timeout', name: event.policy, event: 'timeout' };
    case 'fallback':
      return { kind: 'fallback', name: event.policy, event: 'fallback' };
    case 'circuit-state':
      return { kind: 'circuit_breaker', name: event.policy, event: TRANSITION[event.to] };
    case 'bulkhead-rejected':
      return { kind: 'bulkhead', name: event.policy, event: 'rejected' };
    case 'coordination-error':
      return { kind: 'circuit_breaker', name: event.policy, event: 'coordination_error' };
    case 'outbox-parked':
      return { kind: 'outbox', name: event.policy, event: 'parked' };
    case 'outbox-sent':
      return { kind: 'outbox', name: event.policy, event: 'sent' };
    case 'outbox-full':
      return { kind: 'outbox', name: event.policy, event: 'full' };
    case 'rate-limit-store-error': {
      const name = rateLimitNames().find((each) => event.key.startsWith(`${each}:`));
      return name === undefined ? undefined : { kind: 'rate_limit', name, event: 'store_error' };
    }
    default:
      return undefined;
  }
}
