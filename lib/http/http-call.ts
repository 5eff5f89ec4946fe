import type { ResilienceEvents } from '../core/events/resilience-events.js';
import { activeInvocation, type Invocation } from '../core/pipeline/invocation.js';
import { HttpClientError } from './http-client.error.js';
import { isRetryableStatus } from './http-classification.js';
import { HttpResponse } from './http-response.js';
import { AttemptAbort, type AbortState, type Dispatcher } from './attempt-abort.js';

/**
 * How a call hands its answer over: `buffered` (`get`, `post` ...: the body read inside the attempt, any status from
 * 400 a failure) or `stream` (`client.fetch`: the `Response` as fetch gives it, only 408, 429 and 5xx failures,
 * and the last failed answer handed over when every attempt failed, as a bare fetch would).
 */
export type AnswerMode = 'buffered' | 'stream';

/** What every attempt of one client shares: its name, fetch, events and bounds. */
export interface AttemptContext {
  readonly client: string;
  readonly fetch: typeof fetch;
  /** True when `fetch` is Node's own: its attempts are aborted through a dispatcher (see `AttemptAbort`). */
  readonly nodeFetch: boolean;
  readonly events: ResilienceEvents;
  readonly maxBodyExcerpt: number;
}

/**
 * One logical request: what every attempt sends again (URL, method, headers with one idempotency key, a replayable
 * body), the attempts made, and the failed answer whose body is still open (stream mode).
 */
export class HttpCall {
  attempts = 0;
  /** The attempt number (`invocation.attempt`) last sent: a second send with the same number is a hedge. */
  private lastAttempt = 0;
  /** A failed answer kept for the caller (stream mode), with the error that carried it through the policies. */
  private pending: { readonly error: unknown; readonly response: Response } | undefined = undefined;
  /** The caller's own `init.dispatcher` (`client.fetch`), which the attempts send through. */
  readonly dispatcher: Dispatcher | undefined;

  constructor(
    readonly context: AttemptContext,
    readonly url: string,
    readonly origin: string,
    readonly path: string,
    readonly method: string,
    /**
     * What every attempt hands fetch: the caller's init with the call's method and headers, and a `dispatcher` key
     * that an attempt with Node's fetch sets to its own {@link AttemptAbort} right before it calls fetch (fetch reads
     * its init at once), rather than copying the init per attempt.
     */
    readonly init: RequestInit,
    readonly mode: AnswerMode,
    /** Whether the request may be sent more than once (retried, hedged). */
    readonly repeatable: boolean,
    /** The caller's signal, tied to the body of a streamed answer (aborting it later stops the body, as with fetch). */
    readonly callerSignal: AbortSignal | undefined,
  ) {
    this.dispatcher = init.dispatcher;
  }

  /**
   * The last failed answer, once the policies gave up with it (stream mode): handed to the caller as fetch would.
   * Cleared, so that `discard` leaves it open.
   */
  takeFailedResponse(): Response | undefined {
    const pending = this.pending;
    this.pending = undefined;
    return pending?.response;
  }

  /** True while a failed answer's body is open (stream mode). */
  get holdsAnswer(): boolean {
    return this.pending !== undefined;
  }

  /**
   * Gives up the body of a failed answer nobody will read: read to its end when short (its socket goes back to the
   * pool), cancelled past {@link DRAIN_LIMIT} (the socket is closed rather than kept for a download nobody wants).
   */
  discard(): Promise<void> {
    const pending = this.pending;
    if (pending === undefined) return Promise.resolve();
    this.pending = undefined;
    return drain(pending.response.body, 0);
  }

  /** Whether the attempt numbered `attempt` was already sent: then this send is a hedge beside it. */
  hedgeOf(attempt: number): boolean {
    if (attempt === this.lastAttempt) return true;
    this.lastAttempt = attempt;
    return false;
  }

  keep(error: unknown, response: Response): void {
    void this.discard();
    this.pending = { error, response };
  }
}

/**
 * One attempt, the innermost step of the pipeline (`this` is the request): sends it with the attempt's signal (which
 * timeouts, a winning hedge and the caller abort), and turns the answer into a value or an {@link HttpClientError}.
 */
export function runAttempt(this: object): Promise<unknown> {
  const call = this as HttpCall;
  const invocation = activeInvocation()!;
  call.attempts++;
  const hedged = call.hedgeOf(invocation.attempt);
  // An earlier attempt's failed answer is not what the caller will get now: its socket goes back to the pool first.
  if (call.holdsAnswer) return call.discard().then(() => send(call, invocation, hedged));
  return send(call, invocation, hedged);
}

/** The attempt's init and how it is aborted; the exchange itself is {@link exchange}. */
function send(call: HttpCall, invocation: Invocation, hedged: boolean): Promise<unknown> {
  const { init } = call;
  if (call.context.nodeFetch && (call.mode === 'buffered' || call.callerSignal === undefined)) {
    const abort = new AttemptAbort(call.dispatcher, invocation);
    // Node's fetch asks its dispatcher only for `dispatch`: the rest of undici's Dispatcher type is not needed. Set in
    // the call's own init, read by fetch before it returns: hedged attempts each send their own.
    init.dispatcher = abort as unknown as RequestInit['dispatcher'];
    return exchange(call, invocation, hedged, init, abort, abort);
  }
  // Another fetch knows only signals; a streamed body also stops when the caller's signal aborts later (as fetch).
  const attemptSignal = invocation.signal();
  const signal =
    call.mode === 'stream' && call.callerSignal !== undefined
      ? AbortSignal.any([attemptSignal, call.callerSignal])
      : attemptSignal;
  return exchange(call, invocation, hedged, { ...init, signal }, attemptSignal, undefined);
}

/**
 * Sends the attempt and reads its answer, in one async frame (and its Promise) per attempt. `aborted` tells an abort
 * of the attempt from a network error; `abort`, when given, is released once the attempt has ended.
 */
async function exchange(
  call: HttpCall,
  invocation: Invocation,
  hedged: boolean,
  init: RequestInit,
  aborted: AbortState,
  abort: AttemptAbort | undefined,
): Promise<unknown> {
  const started = performance.now();
  try {
    let response: Response;
    try {
      response = await call.context.fetch(call.url, init);
    } catch (error) {
      throw failed(call, invocation, hedged, started, error, aborted);
    }
    const { status } = response;
    if (call.mode === 'stream') {
      if (status === 408 || status === 429 || status >= 500) {
        const error = statusError(call, response, undefined);
        call.keep(error, response);
        report(call, invocation, hedged, started, status, 'HTTP_STATUS');
        throw error;
      }
      report(call, invocation, hedged, started, status, undefined);
      return response;
    }
    if (status >= 400) {
      let excerpt: string | undefined;
      try {
        excerpt = await bodyExcerpt(response, call.context.maxBodyExcerpt);
      } catch {
        excerpt = undefined; // the status is the failure; a body cut short adds nothing
      }
      report(call, invocation, hedged, started, status, 'HTTP_STATUS');
      throw statusError(call, response, excerpt);
    }
    let body: ArrayBuffer;
    try {
      body = await response.arrayBuffer();
    } catch (error) {
      throw failed(call, invocation, hedged, started, error, aborted);
    }
    report(call, invocation, hedged, started, status, undefined);
    return new HttpResponse(status, response.headers, body);
  } finally {
    abort?.release();
  }
}

/** No answer (or a body cut short): a network error, unless the attempt was aborted (its policy has answered). */
function failed(
  call: HttpCall,
  invocation: Invocation,
  hedged: boolean,
  started: number,
  error: unknown,
  attempt: AbortState,
): unknown {
  if (attempt.aborted || call.callerSignal?.aborted === true) {
    report(call, invocation, hedged, started, undefined, 'ABORTED');
    return attempt.reason ?? error;
  }
  report(call, invocation, hedged, started, undefined, 'NETWORK_ERROR');
  return new HttpClientError({
    code: 'NETWORK_ERROR',
    client: call.context.client,
    method: call.method,
    origin: call.origin,
    path: call.path,
    cause: error,
  });
}

function statusError(call: HttpCall, response: Response, bodyExcerpt: string | undefined): HttpClientError {
  return new HttpClientError({
    code: 'HTTP_STATUS',
    client: call.context.client,
    method: call.method,
    origin: call.origin,
    path: call.path,
    status: response.status,
    headers: response.headers,
    bodyExcerpt,
    gaveUp: isRetryableStatus(response.status) ? 'retry' : 'not-retried',
  });
}

/**
 * Bytes of a discarded body read to its end so that its socket returns to the pool; past this, the body is cancelled
 * (undici then closes the socket) rather than downloaded for nothing.
 */
const DRAIN_LIMIT = 64 * 1024;

type ByteReader = { read(): Promise<unknown>; cancel(): Promise<void> };

async function readChunk(reader: ByteReader): Promise<Uint8Array | undefined> {
  const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
  return done ? undefined : value;
}

/** Reads the rest of a body and forgets it (up to {@link DRAIN_LIMIT} bytes in all), else cancels it. */
async function drain(body: ReadableStream | null, alreadyRead: number, reader?: ByteReader): Promise<void> {
  if (body === null) return;
  const bytes = reader ?? (body.getReader() as ByteReader);
  let read = alreadyRead;
  try {
    for (let chunk = await readChunk(bytes); chunk !== undefined; chunk = await readChunk(bytes)) {
      read += chunk.byteLength;
      if (read > DRAIN_LIMIT) {
        await bytes.cancel();
        return;
      }
    }
  } catch {
    // A body that fails while being discarded has already let its socket go.
  }
}

/** The first `max` bytes of the body as text; the rest is drained or cancelled (see {@link drain}). */
async function bodyExcerpt(response: Response, max: number): Promise<string | undefined> {
  const body = response.body;
  if (body === null) return undefined;
  const reader = body.getReader() as ByteReader;
  const chunks: Uint8Array[] = [];
  let size = 0;
  let ended = false;
  while (size < max) {
    const chunk = await readChunk(reader);
    if (chunk === undefined) {
      ended = true;
      break;
    }
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  if (!ended) await drain(body, size, reader);
  const bytes = new Uint8Array(Math.min(size, max));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - offset);
    bytes.set(part, offset);
    offset += part.length;
    if (offset >= bytes.length) break;
  }
  return new TextDecoder().decode(bytes);
}

function report(
  call: HttpCall,
  invocation: Invocation,
  hedged: boolean,
  started: number,
  status: number | undefined,
  errorCode: 'HTTP_STATUS' | 'NETWORK_ERROR' | 'ABORTED' | undefined,
): void {
  const { events } = call.context;
  if (!events.listening('http-attempt')) return;
  events.emit({
    type: 'http-attempt',
    policy: call.context.client,
    target: invocation.target,
    client: call.context.client,
    origin: call.origin,
    method: call.method,
    path: call.path,
    attempt: invocation.attempt,
    hedged,
    status,
    outcome: errorCode === undefined ? 'success' : 'failure',
    ...(errorCode !== undefined && { errorCode }),
    duration: performance.now() - started,
  });
}
