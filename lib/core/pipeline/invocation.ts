import { randomUUID } from 'node:crypto';
import type { PolicyTarget } from '../events/resilience-event.interface.js';
import { requestKeys } from '../idempotency/request-key.js';

/** What {@link Invocation.abortListener} holds: told when the current attempt is abandoned. */
export interface AttemptAbortListener {
  attemptAborted(reason: unknown): void;
}

/**
 * One call of a decorated method as it travels through the policies: its receiver and arguments, the attempt
 * number, and the cancellation and abort-signal state that timeouts and retries share.
 * Created once per call; everything that can be shared between calls lives in the policies instead.
 */
export class Invocation {
  /** 1 for the first attempt, incremented by the retry policy. */
  attempt = 1;
  /** Set once the whole call was given up (total timeout): no further attempt or backoff may start. */
  cancelled: unknown = undefined;
  /** Set by `@Fallback` when it answers the call, so that call metrics count a `fallback` rather than a success. */
  answeredByFallback = false;
  /** Called when the current attempt is abandoned, e.g. to take a queued call out of a bulkhead queue. */
  onAttemptAbort: ((reason: unknown) => void) | undefined = undefined;
  /**
   * Told after {@link onAttemptAbort} when the current attempt is abandoned: an object rather than a function, so that
   * a policy holding per-call state (a hedge race) hooks in without a closure per call. One at a time: a listener
   * that replaces another keeps it and calls it on.
   */
  abortListener: AttemptAbortListener | undefined = undefined;
  /**
   * The key of this logical call for the downstream's `Idempotency-Key`: the same on every attempt, since retries
   * reuse the invocation. Set by `@Idempotent({ key })`, else made on first read (see `getIdempotencyKey`): derived
   * from the inbound request's key when the call serves a keyed `@Idempotent` request, else a random UUID.
   */
  idempotencyKey: string | undefined = undefined;
  /** Set when {@link idempotencyKey} is a random UUID (no key to derive it from), not a derived one. */
  private randomKey = false;
  /** The invocation this one was forked from (a hedged attempt), whose idempotency key it shares. */
  private forkedFrom: Invocation | undefined = undefined;
  /** Created only when the method asks for a signal: most calls never allocate one. */
  private controller: AbortController | undefined = undefined;
  /** Clears the pending backoff timer, when one is pending. */
  private cancelWait: (() => void) | undefined = undefined;

  constructor(
    readonly target: PolicyTarget,
    readonly thisArg: unknown,
    readonly args: readonly unknown[],
  ) {}

  /** The AbortSignal of the current attempt; aborted when the attempt (or the whole call) times out. */
  signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  /**
   * The call's idempotency key, made once per logical call: `@Idempotent({ key })`'s, else one derived from the
   * inbound request's key (see `request-key.ts`), else a random UUID.
   */
  outboundIdempotencyKey(): string {
    // Hedged attempts are one logical call: they send the key of the call they were forked from.
    if (this.forkedFrom !== undefined) return this.forkedFrom.outboundIdempotencyKey();
    if (this.idempotencyKey !== undefined) return this.idempotencyKey;
    const scope = requestKeys.getStore();
    if (scope === undefined) {
      this.randomKey = true;
      return (this.idempotencyKey = randomUUID());
    }
    return (this.idempotencyKey = scope.nextCallKey(`${this.target.className}.${this.target.methodName}`));
  }

  /**
   * The call's idempotency key when it has one that does not change between runs: `@Idempotent({ key })`'s, or one
   * derived from the inbound request's key (a keyed `@Idempotent` request); `undefined` otherwise (where
   * {@link outboundIdempotencyKey} would make a random one).
   */
  derivedIdempotencyKey(): string | undefined {
    if (this.forkedFrom !== undefined) return this.forkedFrom.derivedIdempotencyKey();
    if (this.idempotencyKey === undefined && requestKeys.getStore() === undefined) return undefined;
    const key = this.outboundIdempotencyKey();
    return this.randomKey ? undefined : key;
  }

  /** Aborts the current attempt's signal, if the method asked for one. */
  abortAttempt(reason: unknown): void {
    this.onAttemptAbort?.(reason);
    this.abortListener?.attemptAborted(reason);
    this.controller?.abort(reason);
  }

  /**
   * A concurrent attempt of this call (`@Hedge`): the same receiver and arguments, and whatever a subclass carries
   * (a handler's source), with its own attempt state and signal.
   */
  fork(): Invocation {
    const child = this.copy();
    child.attempt = this.attempt;
    child.forkedFrom = this;
    return child;
  }

  /**
   * A fresh invocation of the same call (receiver, arguments), for {@link fork}; a subclass that carries more copies
   * it too. A real copy rather than `Object.create(this)`: an object whose prototype is a per-call object gets a hidden
   * class of its own, and that made a hedged call cost microseconds.
   */
  protected copy(): Invocation {
    return new Invocation(this.target, this.thisArg, this.args);
  }

  /** Starts a new attempt: a fresh signal, since the previous one may already be aborted. */
  nextAttempt(): void {
    this.attempt++;
    this.controller = undefined;
  }

  /** Gives up the whole call: aborts the running attempt and ends a pending backoff wait. */
  cancel(reason: unknown): void {
    this.cancelled = reason;
    this.abortAttempt(reason);
    this.cancelWait?.();
  }

  /** Waits `ms` before the next attempt; rejects at once with the cancel reason if the call is given up. */
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.cancelWait = undefined;
        resolve();
      }, ms);
      this.cancelWait = () => {
        clearTimeout(timer);
        this.cancelWait = undefined;
        reject(this.cancelled);
      };
    });
  }
}

let active: Invocation | undefined;

/** Applies `method` to the invocation's receiver and arguments, as the active invocation. */
export function invokeAsActive(invocation: Invocation, method: (...args: never[]) => unknown): unknown {
  const previous = active;
  active = invocation;
  try {
    return callWith(method as (...args: unknown[]) => unknown, invocation.thisArg, invocation.args);
  } finally {
    active = previous;
  }
}

/**
 * `method.apply(thisArg, args)`, with the common arities as plain calls: `apply` with an array goes through V8's
 * generic spread builtins (about 120 instructions per call, callgrind, Node 20), a call with its arguments written
 * out through the ordinary call.
 */
function callWith(method: (...args: unknown[]) => unknown, thisArg: unknown, args: readonly unknown[]): unknown {
  switch (args.length) {
    case 0:
      return method.call(thisArg);
    case 1:
      return method.call(thisArg, args[0]);
    case 2:
      return method.call(thisArg, args[0], args[1]);
    case 3:
      return method.call(thisArg, args[0], args[1], args[2]);
    default:
      return method.apply(thisArg, args as unknown[]);
  }
}

/**
 * The invocation whose method is running right now (synchronously), for callbacks that a pipeline built without
 * decorators runs: they receive its attempt and signal as an argument.
 * @internal
 */
export function activeInvocation(): Invocation | undefined {
  return active;
}

/**
 * The AbortSignal of the running call's current attempt: pass it to `fetch`, an HTTP client or a driver so that
 * the work really stops when a `@Timeout` fires. Call it synchronously in the decorated method, before its first
 * `await`. Returns `undefined` outside a decorated method. A signal is only created when asked for, so methods that
 * never call this pay nothing. On controller handlers use the `@TimeoutSignal()` parameter decorator instead.
 */
export function getTimeoutSignal(): AbortSignal | undefined {
  return active?.signal();
}

/**
 * The idempotency key of the running call, to send as `Idempotency-Key` to a payment gateway or any downstream
 * that honours it: made once per logical call and the same on every `@Retry` and hedged attempt, so the downstream
 * can tell a retry from a new operation. While serving a request that brought an `Idempotency-Key` to an
 * `@Idempotent` handler, it is derived from that request's scoped key and the method (`Class.method`, and which call
 * of it this is), so the client's own retry sends the same keys again; otherwise a random UUID;
 * `@Idempotent({ key })` on the method derives it from the arguments instead. In such a handler itself it returns the
 * request's key. Call it synchronously, before the first `await`. Returns `undefined` outside a decorated method and
 * a keyed request.
 */
export function getIdempotencyKey(): string | undefined {
  return active !== undefined ? active.outboundIdempotencyKey() : requestKeys.getStore()?.key;
}
