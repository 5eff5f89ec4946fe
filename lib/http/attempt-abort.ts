import type { AttemptAbortListener, Invocation } from '../core/pipeline/invocation.js';

/** Whether (and why) an attempt was aborted: its `AbortSignal`, or its {@link AttemptAbort}. */
export interface AbortState {
  readonly aborted: boolean;
  readonly reason: unknown;
}

/** The part of undici's `Dispatcher` an attempt uses (Node's fetch takes one as `init.dispatcher`). */
export interface Dispatcher {
  dispatch(options: unknown, handler: DispatchHandler): boolean;
  /** Set by undici's `MockAgent`: fetch then hands it the request body as given. */
  readonly isMockActive?: boolean;
}

/** The part of an undici dispatch handler an attempt wraps: `onConnect` hands over the request's abort. */
interface DispatchHandler {
  onConnect?: (this: DispatchHandler, abort: (error: Error) => void, context?: unknown) => void;
}

/** Where Node's fetch (undici) keeps the dispatcher it uses when a request names none (`setGlobalDispatcher`). */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/**
 * The cancellation of one attempt made with Node's own fetch, without an `AbortSignal`. For a signal undici's fetch
 * makes a WeakRef, a FinalizationRegistry entry and an abort listener, and raises the signal's max listeners, per
 * request: more than the whole pipeline costs, for a cancellation that few calls ever use. The attempt hands fetch
 * this object as its `dispatcher` instead: it passes the request on to the dispatcher fetch would have used (the
 * caller's `init.dispatcher`, else the global one) and keeps the abort function undici gives the request when it is
 * sent. Aborting the attempt calls it, which destroys the socket, as an aborted signal does; an attempt aborted
 * before its request was sent aborts it as soon as undici sends it (as fetch does with a signal).
 *
 * It hears the abort as the invocation's `abortListener` (an object, so no closure per attempt), after the listener
 * it replaced (a hedge race's, when attempts run on the race's own invocation), which it puts back with `release`.
 */
export class AttemptAbort implements Dispatcher, AbortState, AttemptAbortListener {
  aborted = false;
  reason: unknown = undefined;
  private abortRequest: ((error: Error) => void) | undefined = undefined;
  private readonly previous: AttemptAbortListener | undefined;

  constructor(
    private readonly dispatcher: Dispatcher | undefined,
    private readonly invocation: Invocation,
  ) {
    this.previous = invocation.abortListener;
    invocation.abortListener = this;
  }

  /** The attempt is given up (its timeout, a winning hedge, the caller): the listener before, then its request. */
  attemptAborted(reason: unknown): void {
    this.previous?.attemptAborted(reason);
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.abortRequest?.(abortErrorOf(reason));
  }

  /** The attempt ended: the invocation's listener is the one before it again. */
  release(): void {
    if (this.invocation.abortListener === this) this.invocation.abortListener = this.previous;
  }

  /** Asked by fetch of the dispatcher it sends through (a `MockAgent` set globally must still see its bodies). */
  get isMockActive(): boolean {
    return this.target().isMockActive === true;
  }

  dispatch(options: unknown, handler: DispatchHandler): boolean {
    const dispatcher = this.target();
    const onConnect = handler.onConnect;
    handler.onConnect = (abort, context) => {
      this.abortRequest = abort;
      onConnect?.call(handler, abort, context);
      if (this.aborted) abort(abortErrorOf(this.reason));
    };
    return dispatcher.dispatch(options, handler);
  }

  /** The dispatcher fetch would have used: the request's own, else the global one (read now: it may be replaced). */
  private target(): Dispatcher {
    return this.dispatcher ?? ((globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER] as Dispatcher);
  }
}

/** undici aborts a request with an `Error`: the attempt's reason, else an `AbortError` as fetch's own. */
export function abortErrorOf(reason: unknown): Error {
  return reason instanceof Error ? reason : new DOMException('This operation was aborted', 'AbortError');
}
