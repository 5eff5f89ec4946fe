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
 */
export class AttemptAbort implements Dispatcher, AbortState {
  aborted = false;
  reason: unknown = undefined;
  /** What the invocation calls when the attempt is given up: this attempt's, or a chain ending in it. */
  hook: (reason: unknown) => void;
  private abortRequest: ((error: Error) => void) | undefined = undefined;

  constructor(private readonly dispatcher: Dispatcher | undefined) {
    this.hook = this.onAbort;
  }

  readonly onAbort = (reason: unknown): void => {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.abortRequest?.(abortErrorOf(reason));
  };

  /** A hook that calls `previous` (an outer policy's) and then aborts this attempt. */
  after(previous: (reason: unknown) => void): (reason: unknown) => void {
    this.hook = (reason) => {
      previous(reason);
      this.onAbort(reason);
    };
    return this.hook;
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
