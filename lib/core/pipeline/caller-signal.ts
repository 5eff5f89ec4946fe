import { AsyncLocalStorage } from 'node:async_hooks';
import type { Unsubscribable } from 'rxjs';
import { CallAbortedError } from '../errors/call-aborted.error.js';
import type { Invocation } from './invocation.js';
import type { PromiseStep } from './policy.interface.js';
import type { Sink, SinkStep } from './sink.js';

const scopes = new AsyncLocalStorage<AbortSignal>();
/** Set by the first `withSignal`: until then no call looks the store up (most applications never use it). */
let scoped = false;

/**
 * Runs `fn` with `signal` as the cancellation of every decorated method it calls, across its `await`s (an
 * `AsyncLocalStorage` scope, as the idempotency key travels): aborting the signal gives those calls up at once, in
 * whatever state they are (an attempt, a retry's backoff, a bulkhead's queue, hedges), and they reject with a
 * {@link CallAbortedError}. The attempt's own signal (`getTimeoutSignal()`) is aborted too, so a `fetch` given it
 * stops. Cockatiel's `execute(fn, signal)`, without changing the methods' signatures:
 * `await withSignal(request.signal, () => this.payments.charge(order))`. Returns what `fn` returns.
 */
export function withSignal<T>(signal: AbortSignal, fn: () => T): T {
  if (!(signal instanceof AbortSignal)) {
    throw new TypeError(
      `withSignal: the signal must be an AbortSignal, got ${signal === null ? 'null' : typeof signal}`,
    );
  }
  scoped = true;
  return scopes.run(signal, fn);
}

/**
 * The signal of the innermost `withSignal` scope the caller runs in, or `undefined`.
 * @internal
 */
export function callerSignal(): AbortSignal | undefined {
  return scoped ? scopes.getStore() : undefined;
}

/**
 * Runs a Promise call that its caller may abort: on abort the invocation is given up (attempt, backoff, queue,
 * hedges; its attempt signal aborted) and the call rejects at once, whatever the work does next. The listener is
 * removed when the call settles.
 * @internal
 */
export function runAbortable(step: PromiseStep, invocation: Invocation, signal: AbortSignal): Promise<unknown> {
  const name = `${invocation.target.className}.${invocation.target.methodName}`;
  if (signal.aborted) return Promise.reject(new CallAbortedError(name, signal.reason));
  return new Promise<unknown>((resolve, reject) => {
    const onAbort = () => {
      const error = new CallAbortedError(name, signal.reason);
      invocation.cancel(error);
      reject(error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    step(invocation).then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Runs an Observable call that its caller may abort (as well as unsubscribe): on abort the invocation is given up,
 * what runs is unsubscribed and the sink gets a {@link CallAbortedError}. Returns the call's teardown, which removes
 * the listener.
 * @internal
 */
export function subscribeAbortable(
  step: SinkStep,
  invocation: Invocation,
  sink: Sink,
  signal: AbortSignal,
): Unsubscribable | undefined {
  const name = `${invocation.target.className}.${invocation.target.methodName}`;
  if (signal.aborted) {
    sink.error(new CallAbortedError(name, signal.reason));
    return undefined;
  }
  let inner: Unsubscribable | undefined;
  let ended = false;
  const end = () => {
    ended = true;
    signal.removeEventListener('abort', onAbort);
    const running = inner;
    inner = undefined;
    running?.unsubscribe();
  };
  const onAbort = () => {
    const error = new CallAbortedError(name, signal.reason);
    invocation.cancel(error);
    end();
    sink.error(error);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const watched: Sink = {
    next: (value) => sink.next(value),
    error: (error) => {
      if (ended) return;
      end();
      sink.error(error);
    },
    complete: () => {
      if (ended) return;
      end();
      sink.complete();
    },
  };
  const running = step(invocation, watched);
  if (ended) running?.unsubscribe();
  else inner = running;
  return { unsubscribe: end };
}
