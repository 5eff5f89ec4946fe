import { HttpException, StreamableFile, type ExecutionContext } from '@nestjs/common';
import { Observable, type Subscriber, type Subscription, type TeardownLogic, type Unsubscribable } from 'rxjs';
import { IdempotencyKeyInFlightError, IdempotencyKeyMismatchError } from '../../core/errors/idempotency-key.error.js';
import { IdempotencyStoreUnavailableError } from '../../core/errors/idempotency-key.error.js';
import { ResilienceError } from '../../core/errors/resilience.error.js';
import { nextFencingToken } from '../../core/idempotency/fencing-token.js';
import type { IdempotencyAcquireResult } from '../../core/idempotency/idempotency-store.interface.js';
import { storeAnswerLater } from '../../core/idempotency/store-answer.js';
import { subscriberOf } from '../../core/pipeline/sink.js';
import type { HandlerIdempotency } from './handler-idempotency.js';
import { httpResponse } from './http-arguments.js';

/** An answer as stored: status, body, the safe headers, and whether it was an error (replayed as an exception). */
export interface StoredAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  readonly error?: true;
}

/** Headers stored with an answer and replayed; never `Set-Cookie` or anything else about the session. */
const SAFE_HEADERS = ['content-type', 'location', 'etag'] as const;

/** While another request holds the key and this one waits (`onInFlight: { wait }`), how often the store is read. */
const WAIT_POLL_MS = 25;

/** What an Express response and a Fastify reply both offer. */
interface HttpResponse {
  statusCode: number;
  getHeader(name: string): unknown;
}

/**
 * The cold Observable of one keyed request: each subscription is an {@link IdempotentRequest}. It carries what the
 * request needs as fields, so all requests share one subscribe function instead of a new closure each.
 */
export class IdempotentRequestObservable extends Observable<unknown> {
  constructor(
    readonly owner: HandlerIdempotency,
    readonly context: ExecutionContext,
    readonly recordKey: string,
    readonly fingerprint: string,
    readonly run: (keyed: boolean) => Observable<unknown>,
  ) {
    super(startRequest);
  }
}

/** RxJS calls the subscribe function with the Observable as `this`. */
function startRequest(this: Observable<unknown>, subscriber: Subscriber<unknown>): TeardownLogic {
  const { owner, context, recordKey, fingerprint, run } = this as IdempotentRequestObservable;
  return new IdempotentRequest(owner, context, recordKey, fingerprint, run, subscriber).start();
}

/**
 * One request with an `Idempotency-Key`, from `acquire` to the stored answer: runs the handler when it took the
 * lease, replays the stored answer, refuses or waits while another request holds the key. One object per request:
 * it is also the handler's observer and its own teardown.
 */
export class IdempotentRequest implements Unsubscribable {
  private readonly token = nextFencingToken();
  private inner: Subscription | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private waitUntil = 0;
  /** When the lease ends at the latest (`performance.now()`), measured from before `acquire` was sent. */
  private leaseEndsAt = 0;
  /** The handler's first value, held until it completes (a second one makes it a stream, which is not stored). */
  private held: { value: unknown } | undefined;
  private streaming = false;

  constructor(
    private readonly owner: HandlerIdempotency,
    private readonly context: ExecutionContext,
    private readonly recordKey: string,
    private readonly fingerprint: string,
    private readonly run: (keyed: boolean) => Observable<unknown>,
    private readonly subscriber: Subscriber<unknown>,
  ) {}

  start(): TeardownLogic {
    this.acquire();
    return this;
  }

  /** @internal The subscription ended (answered, or the client left). */
  unsubscribe(): void {
    // The lease is not released here: a handler still working after its client left must not run twice.
    this.closed = true;
    clearTimeout(this.timer);
    this.inner?.unsubscribe();
  }

  private acquire(): void {
    const { owner } = this;
    if (owner.immediate !== undefined) {
      this.onAcquired(owner.immediate.acquireNow(this.recordKey, this.fingerprint, this.token, owner.leaseMs));
      return;
    }
    this.leaseEndsAt = performance.now() + owner.leaseMs;
    owner.store.acquire(this.recordKey, this.fingerprint, this.token, owner.leaseMs).then(
      (result) => this.onAcquired(result),
      (error: unknown) => this.onStoreError(error),
    );
  }

  private onAcquired(result: IdempotencyAcquireResult): void {
    if (this.closed) {
      if (result.outcome === 'acquired') void this.owner.store.release(this.recordKey, this.token).catch(() => false);
      return;
    }
    if (result.outcome === 'acquired') {
      // This object is the observer of the handler's answer (next, error, complete): no closures per request, and
      // one plain Subscriber around it (what `subscribe(this)` would wrap in two objects).
      this.inner = this.run(true).subscribe(subscriberOf(this));
      return;
    }
    if (result.fingerprint !== this.fingerprint) {
      this.fail(new IdempotencyKeyMismatchError(this.owner.policy));
      return;
    }
    if (result.outcome === 'completed') {
      this.replay(result.response);
      return;
    }
    const { onInFlight } = this.owner.options;
    if (onInFlight === 'reject') {
      this.fail(new IdempotencyKeyInFlightError(this.owner.policy, 1000));
      return;
    }
    this.waitUntil ||= Date.now() + onInFlight.wait;
    this.poll();
  }

  /** Waits for the request holding the key: its answer, or its release (then this one runs), or the deadline. */
  private poll(): void {
    if (Date.now() >= this.waitUntil) {
      this.fail(new IdempotencyKeyInFlightError(this.owner.policy, 1000));
      return;
    }
    this.timer = setTimeout(() => {
      this.owner.store.get(this.recordKey).then(
        (record) => {
          if (this.closed) return;
          if (record === undefined) this.acquire();
          else if (record.fingerprint !== this.fingerprint)
            this.fail(new IdempotencyKeyMismatchError(this.owner.policy));
          else if (record.state === 'completed') this.replay(record.response);
          else this.poll();
        },
        (error: unknown) => this.onStoreError(error),
      );
    }, WAIT_POLL_MS);
  }

  private onStoreError(error: unknown): void {
    if (this.closed) return;
    if (this.owner.options.onStoreError === 'allow') {
      this.inner = this.run(false).subscribe(this.subscriber);
      return;
    }
    this.fail(new IdempotencyStoreUnavailableError(this.owner.policy, error));
  }

  /** @internal The handler's values. */
  next(value: unknown): void {
    if (this.streaming) {
      this.subscriber.next(value);
      return;
    }
    if (this.held === undefined && !(value instanceof StreamableFile)) {
      this.held = { value };
      return;
    }
    // A stream: sent as it comes, never stored.
    this.streaming = true;
    this.owner.warnStreaming();
    if (this.held !== undefined) this.subscriber.next(this.held.value);
    this.held = undefined;
    this.subscriber.next(value);
  }

  /** @internal */
  complete(): void {
    if (this.streaming) {
      void this.owner.store.release(this.recordKey, this.token).catch(() => false);
      this.subscriber.complete();
      return;
    }
    const response = httpResponse<HttpResponse>(this.context);
    const body = this.held?.value;
    const answer: StoredAnswer = { status: response.statusCode, body, headers: safeHeaders(response) };
    this.settle(answer, () => {
      if (this.held !== undefined) this.subscriber.next(body);
      this.subscriber.complete();
    });
  }

  /** @internal */
  error(error: unknown): void {
    const answer = this.storableError(error);
    if (answer === undefined) {
      void this.owner.store.release(this.recordKey, this.token).catch(() => false);
      this.subscriber.error(error);
      return;
    }
    this.settle(answer, () => this.subscriber.error(error));
  }

  /** The error as a stored answer, or `undefined` when it is not stored (5xx and our own rejections by default). */
  private storableError(error: unknown): StoredAnswer | undefined {
    const all = this.owner.options.replay === 'all';
    if (!(error instanceof HttpException)) {
      return all
        ? { status: 500, body: { statusCode: 500, message: 'Internal server error' }, error: true }
        : undefined;
    }
    const status = error.getStatus();
    const ours = error.cause instanceof ResilienceError || error instanceof ResilienceError;
    if (!all && (status >= 500 || ours)) return undefined;
    return { status, body: error.getResponse(), error: true };
  }

  /** Completes the record with the answer, then sends it; a store failing now still lets the answer through. */
  private settle(answer: StoredAnswer, send: () => void): void {
    let serialized: string;
    try {
      serialized = serializeAnswer(answer);
    } catch {
      void this.owner.store.release(this.recordKey, this.token).catch(() => false);
      send();
      return;
    }
    const { owner } = this;
    if (owner.immediate !== undefined) {
      owner.immediate.completeNow(this.recordKey, this.token, serialized, owner.options.ttl);
      send();
      return;
    }
    // `send` either way: one reaction, where `.catch().then()` made two Promises and two microtask turns. A store
    // that failed now gets the answer later, while the lease lasts: left as a lease, the key would run again.
    owner.store.complete(this.recordKey, this.token, serialized, owner.options.ttl).then(send, () => {
      send();
      storeAnswerLater(owner.store, this.recordKey, this.token, serialized, owner.options.ttl, this.leaseEndsAt);
    });
  }

  private replay(response: string): void {
    const answer = JSON.parse(response) as StoredAnswer;
    const http = httpResponse<HttpResponse>(this.context);
    const adapter = this.owner.adapter();
    for (const [name, value] of Object.entries(answer.headers ?? {})) adapter?.setHeader(http, name, value);
    adapter?.setHeader(http, 'Idempotent-Replayed', 'true');
    if (answer.error) {
      this.subscriber.error(new HttpException(answer.body as Record<string, unknown>, answer.status));
      return;
    }
    this.subscriber.next(answer.body);
    this.subscriber.complete();
  }

  private fail(error: ResilienceError): void {
    this.subscriber.error(this.owner.transportError(error, this.context));
  }
}

function safeHeaders(response: HttpResponse): Record<string, string> | undefined {
  let headers: Record<string, string> | undefined;
  for (const name of SAFE_HEADERS) {
    const value = response.getHeader(name) as string | number | string[] | undefined;
    if (value === undefined) continue;
    (headers ??= {})[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return headers;
}

/**
 * `JSON.stringify(answer)`, the same text (stores hold it across versions), written around the body's own
 * serialization: the wrapper object cost as much as the body again.
 */
export function serializeAnswer(answer: StoredAnswer): string {
  const body = JSON.stringify(answer.body) as string | undefined;
  const { status } = answer;
  let text = `{"status":${Number.isInteger(status) ? `${status}` : JSON.stringify(status)}`;
  if (body !== undefined) text += `,"body":${body}`;
  if (answer.headers !== undefined) text += `,"headers":${JSON.stringify(answer.headers)}`;
  if (answer.error !== undefined) text += ',"error":true';
  return `${text}}`;
}
