import type { LoadShedReason } from '../errors/load-shed.error.js';
import type { LoadSample } from '../load-shedding/load-sampler.interface.js';
import type { RequestPriority } from '../load-shedding/load-shedding.options.js';
import type { CircuitState, CircuitTransitionReason } from '../circuit-breaker/circuit-breaker.snapshot.js';
import type { OutboxFullEvent, OutboxParkedEvent, OutboxSentEvent } from '../outbox/outbox.events.js';

/** The decorated class and method a policy ran for. */
export interface PolicyTarget {
  /** Class name of the decorated provider or controller. */
  readonly className: string;
  /** Name of the decorated method. */
  readonly methodName: string;
}

interface BaseEvent {
  /** Name of the policy (its configuration name, or `Class.method` for inline options). */
  readonly policy: string;
  /** The decorated method the call was made to. */
  readonly target: PolicyTarget;
}

/** A failed attempt is about to be retried after `delay` milliseconds. */
export interface RetryEvent extends BaseEvent {
  readonly type: 'retry';
  /** The attempt that failed (1 for the first call). */
  readonly attempt: number;
  /** Milliseconds until the next attempt starts. */
  readonly delay: number;
  /** Why the attempt failed; `undefined` when it is retried for its value (`retryOnResult`). */
  readonly error: unknown;
  /** The value `retryOnResult` matched, when the attempt is retried for it. */
  readonly result?: unknown;
}

/**
 * `@Retry` gave up: every attempt (`maxAttempts`) was made and the last one failed, or answered a value
 * `retryOnResult` matched (`byResult`; the caller then gets that value). Not reported when a failure is not retryable,
 * when the retry budget is spent (`retry-budget-exhausted`) or when the call was given up (timeout, caller's signal).
 */
export interface RetryGiveUpEvent extends BaseEvent {
  readonly type: 'retry-give-up';
  /** Attempts made, the first call included. */
  readonly attempts: number;
  /** True when the last attempt answered a value `retryOnResult` matched, false when it failed. */
  readonly byResult: boolean;
  /** The last attempt's error (`undefined` when `byResult`): what the caller gets. */
  readonly error: unknown;
  /** The last attempt's value, when `byResult`: what the caller gets. */
  readonly result?: unknown;
}

/**
 * A call of a decorated method (or a `ResilienceService` pipeline) ended with a value, after every policy: delivered
 * only to listeners subscribed to it by name (`events.on('call-success', ...)`), see `ResilienceEvents.on`.
 * `policy` is the target's name (`Class.method`).
 */
export interface CallSuccessEvent extends BaseEvent {
  readonly type: 'call-success';
  /** Attempts made (retries and hedges included). */
  readonly attempts: number;
  /** Milliseconds from the call to its answer, retries, backoff and fallback included. */
  readonly duration: number;
  /** True when a `@Fallback` answered. */
  readonly fallback: boolean;
}

/**
 * A call of a decorated method (or a `ResilienceService` pipeline) failed after every policy: the error its caller
 * got. Delivered only to listeners subscribed to it by name (`events.on('call-failure', ...)`).
 */
export interface CallFailureEvent extends BaseEvent {
  readonly type: 'call-failure';
  /** Attempts made (retries and hedges included). */
  readonly attempts: number;
  /** Milliseconds from the call to its failure. */
  readonly duration: number;
  /** What the caller got: the method's error, or the policy's (`TimeoutError`, `BrokenCircuitError` ...). */
  readonly error: unknown;
}

/**
 * A failed attempt was not retried because its retry budget was spent: the call failed at once with `error`
 * (marked `retryBudgetExhausted: budget`).
 */
export interface RetryBudgetExhaustedEvent extends BaseEvent {
  readonly type: 'retry-budget-exhausted';
  /** Name of the retry budget that had no room. */
  readonly budget: string;
  /** The attempt that failed and was not retried. */
  readonly attempt: number;
  /** The error the call failed with. */
  readonly error: unknown;
}

/** `@Hedge` started another attempt beside the running one(s). */
export interface HedgeEvent extends BaseEvent {
  readonly type: 'hedge';
  /** 1 for the first hedge (the second attempt), 2 for the next ... */
  readonly hedge: number;
  /**
   * How long it waited after the previous attempt started, in ms, as measured: about the configured or percentile
   * delay when the previous attempt was slow, less when every running attempt failed first (then it starts at once).
   */
  readonly delay: number;
}

/** A call exceeded its per-attempt timeout or the total budget. */
export interface TimeoutEvent extends BaseEvent {
  readonly type: 'timeout';
  /** The attempt that timed out (for a `total` timeout, the attempt that was running). */
  readonly attempt: number;
  /** The limit that was exceeded, in milliseconds. */
  readonly duration: number;
  /** `attempt` or `total`. */
  readonly scope: 'attempt' | 'total';
}

/** A failure was answered by a fallback. */
export interface FallbackEvent extends BaseEvent {
  readonly type: 'fallback';
  /** The error the fallback replaced. */
  readonly error: unknown;
  /** The step of the chain that answered, 0 for the first (the only one of a plain `@Fallback`). */
  readonly step: number;
  /** True when the answer is a remembered (last-known-good) result rather than a fresh one. */
  readonly stale?: true;
  /** For a stale answer: milliseconds since the primary produced it. */
  readonly ageMs?: number;
}

/** A circuit breaker changed state (after a call, or because an operator asked). */
export interface CircuitStateEvent {
  readonly type: 'circuit-state';
  /** Name of the breaker. */
  readonly policy: string;
  readonly from: CircuitState;
  readonly to: CircuitState;
  readonly reason: CircuitTransitionReason;
}

/**
 * A rate limit refused a request (the guard of a handler: its own limits, its class's or `globalRateLimits`) or a
 * call (a provider method's `@RateLimit`, a `ResilienceService` pipeline): Polly's `OnRejected`. One event per
 * refusal; `policy` names the limit that refused (of several, the one that frees up last). Admitted requests and
 * limits skipped by `skipIf` report nothing.
 */
export interface RateLimitRejectedEvent extends BaseEvent {
  readonly type: 'rate-limit-rejected';
  /** The bucket key the request was refused for: the client address (`key: 'ip'`), `global`, or your key's value. */
  readonly key: string;
  /** Milliseconds until the limit admits this key again (the `Retry-After` of an HTTP answer, in ms). */
  readonly retryAfterMs: number;
}

/** A bulkhead turned a call away. */
export interface BulkheadRejectedEvent extends BaseEvent {
  readonly type: 'bulkhead-rejected';
  /** `full`: no slot and no queue room; `wait`: queued longer than `maxWait`; `limit`: over an adaptive limit. */
  readonly reason: 'full' | 'wait' | 'limit';
}

/** An adaptive bulkhead's limit changed (reported when its whole part changes). */
export interface ConcurrencyLimitEvent {
  readonly type: 'concurrency-limit';
  /** Name of the bulkhead. */
  readonly policy: string;
  readonly previous: number;
  readonly limit: number;
}

/**
 * A shared rate-limit store (Redis) could not answer, so the decision was made without it, as its `onStoreError`
 * option says: `allow` (fail open), `deny` (fail closed) or `local` (an in-process bucket).
 */
export interface RateLimitStoreErrorEvent {
  readonly type: 'rate-limit-store-error';
  /** The bucket key (the limit's name, a colon, then the caller's key). */
  readonly key: string;
  /** How the call was decided instead. */
  readonly decision: 'allow' | 'deny' | 'local';
  readonly error: unknown;
}

/** The shared rate-limit store answers again after errors; decisions are shared again from now on. */
export interface RateLimitStoreRecoveredEvent {
  readonly type: 'rate-limit-store-recovered';
  /** Milliseconds since the first error of the outage. */
  readonly downtimeMs: number;
}

/**
 * Circuit-breaker coordination between replicas failed (publishing an opening, or taking the probe lease); the
 * breaker carried on with its local decision.
 */
export interface CoordinationErrorEvent {
  readonly type: 'coordination-error';
  /** Name of the breaker. */
  readonly policy: string;
  readonly operation: 'publish' | 'probe-lease';
  readonly error: unknown;
}

/** A chaos experiment injected something into a call (fault, latency or outcome). */
export interface ChaosInjectedEvent extends BaseEvent {
  readonly type: 'chaos-injected';
  /** The attempt it was injected into (1 for the first call). */
  readonly attempt: number;
  /** What was injected. */
  readonly injected: 'fault' | 'latency' | 'outcome';
  /** For latency: the delay in milliseconds. */
  readonly delay?: number;
}

/** The policies gave up on a message and `@DeadLetter` stored it; the handler completed without a value. */
export interface DeadLetterEvent extends BaseEvent {
  readonly type: 'dead-letter';
  /** The letter's id in its queue. */
  readonly id: string;
  /** Attempts made before giving up. */
  readonly attempts: number;
  /** Why the policies gave up. */
  readonly error: unknown;
}

/** The dead-letter store could not take a letter: the handler failed with its own error (the broker keeps it). */
export interface DeadLetterStoreErrorEvent extends BaseEvent {
  readonly type: 'dead-letter-store-error';
  /** What the store failed with. */
  readonly error: unknown;
}

/** A dead letter was replayed (from the registry). */
export interface DeadLetterReplayEvent {
  readonly type: 'dead-letter-replay';
  /** The dead-letter queue. */
  readonly policy: string;
  readonly id: string;
  readonly outcome: 'succeeded' | 'failed' | 'skipped';
}

/** The overloaded process refused a request early (load shedding). `policy` is `loadShedding`. */
export interface LoadShedEvent extends BaseEvent {
  readonly type: 'load-shed';
  /** The priority of the refused request. */
  readonly priority: RequestPriority;
  /** The signal furthest past its threshold. */
  readonly reason: LoadShedReason;
  /** The pressure when it was refused (1 = at the hard threshold). */
  readonly level: number;
}

/** The process started shedding load (`level` > 0), or stopped (`level` 0): reported once per change. */
export interface LoadPressureEvent {
  readonly type: 'load-pressure';
  /** The pressure (0 = healthy, 1 = at the hard threshold of the worst signal). */
  readonly level: number;
  /** The signal furthest past its soft threshold, when under pressure. */
  readonly reason: LoadShedReason | undefined;
  /** The sample that changed it. */
  readonly sample: LoadSample;
}

/**
 * One attempt of a `nest-resilience/http` client ended (`ResilientHttpClient`): delivered only to listeners that name
 * it (`events.on('http-attempt', ...)`), as it happens on every call. `policy` is the client's name. Carries no
 * header value, no query string and no body: nothing that may hold a secret.
 */
export interface HttpAttemptEvent extends BaseEvent {
  readonly type: 'http-attempt';
  /** The client's name (`ResilientHttpModule.register({ name })`). */
  readonly client: string;
  /** The URL's origin (`https://api.example.com`): the unit of isolation. */
  readonly origin: string;
  /** The HTTP method, upper case. */
  readonly method: string;
  /** The URL's path, without the query string. */
  readonly path: string;
  /** 1 for the first attempt, 2 for the first retry (hedged attempts share their attempt's number). */
  readonly attempt: number;
  /** True for an attempt the hedge started beside a slow one (`hedge` option). */
  readonly hedged: boolean;
  /** The status the upstream answered; `undefined` when no answer came (network error, aborted). */
  readonly status: number | undefined;
  /** `success` (an answer the caller gets: 2xx, 3xx, and other statuses that are not failures) or `failure`. */
  readonly outcome: 'success' | 'failure';
  /** Why it failed: `HTTP_STATUS`, `NETWORK_ERROR`, or `ABORTED` (a timeout, a hedge won, the caller gave up). */
  readonly errorCode?: 'HTTP_STATUS' | 'NETWORK_ERROR' | 'ABORTED';
  /** Milliseconds from the request to the answer's body (or to the failure). */
  readonly duration: number;
}

/**
 * A call of a `nest-resilience/http` client failed: the caller gets an `HttpClientError` (or, from `client.fetch`,
 * fetch's own `TypeError` or the last failed `Response`). One per failed call, delivered to every listener (failures
 * only: a happy call costs nothing). `policy` is the client's name. Not reported when the caller's own signal ended
 * the call. Carries no header value, no query string and no body.
 */
export interface HttpGiveUpEvent extends BaseEvent {
  readonly type: 'http-give-up';
  /** The client's name. */
  readonly client: string;
  /** The URL's origin (`https://api.example.com`). */
  readonly origin: string;
  /** The HTTP method, upper case. */
  readonly method: string;
  /** The URL's path, without the query string. */
  readonly path: string;
  /** The last answer's status; `undefined` when none came. */
  readonly status: number | undefined;
  /** Attempts made, retries and hedged attempts included. */
  readonly attempts: number;
  /** The `HttpClientError`'s code: `HTTP_STATUS`, `NETWORK_ERROR`, `TIMEOUT`, `BROKEN_CIRCUIT` ... */
  readonly code: string;
  /** What ended the call: `retry`, `not-retried`, `attempt-timeout`, `total-timeout`, `circuit-breaker` ... */
  readonly gaveUp: string;
}

/** Everything nest-resilience reports; switch on `type`. */
export type ResilienceEvent =
  | RetryEvent
  | RetryGiveUpEvent
  | CallSuccessEvent
  | CallFailureEvent
  | RetryBudgetExhaustedEvent
  | HedgeEvent
  | TimeoutEvent
  | FallbackEvent
  | CircuitStateEvent
  | BulkheadRejectedEvent
  | RateLimitRejectedEvent
  | RateLimitStoreErrorEvent
  | RateLimitStoreRecoveredEvent
  | CoordinationErrorEvent
  | ChaosInjectedEvent
  | DeadLetterEvent
  | DeadLetterStoreErrorEvent
  | DeadLetterReplayEvent
  | LoadShedEvent
  | ConcurrencyLimitEvent
  | LoadPressureEvent
  | HttpAttemptEvent
  | HttpGiveUpEvent
  | OutboxParkedEvent
  | OutboxSentEvent
  | OutboxFullEvent;

/** The events of every call (`call-success`, `call-failure`): delivered only to listeners that name them. */
export type CallOutcomeEvent = CallSuccessEvent | CallFailureEvent;

/** Every event's `type`. */
export type ResilienceEventType = ResilienceEvent['type'];

/** The event of type `T`. */
export type ResilienceEventOf<T extends ResilienceEventType> = Extract<ResilienceEvent, { readonly type: T }>;

/** Receives events; must not throw (a throwing listener is reported and ignored). */
export type ResilienceEventListener = (event: ResilienceEvent) => void;
