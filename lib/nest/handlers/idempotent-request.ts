import { HttpException, StreamableFile, type ExecutionContext } from '@nestjs/common';
import { Observable, type Subscriber, type Subscription, type TeardownLogic, type Unsubscribable } from 'rxjs';
import { IdempotencyKeyInFlightError, IdempotencyKeyMismatchError } from '../../core/errors/idempotency-key.error.js';
import { IdempotencyStoreUnavailableError } from '../../core/errors/idempotency-key.error.js';
import { ResilienceError } from '../../core/errors/resilience.error.js';
import { nextFencingToken } from '../../core/idempotency/fencing-token.js';
import type {
  IdempotencyAcquireResult,
  IdempotencyStore,
  ImmediateIdempotencyStore,
} from '../../core/idempotency/idempotency-store.interface.js';
import type { IdempotencyOptions } from '../../core/idempotency/idempotency.options.js';
import type { IdempotencyStats } from '../../core/idempotency/idempotency-stats.js';
import type { HttpAdapterHost } from '@nestjs/core';
import { storeAnswerLater } from '../../core/idempotency/store-answer.js';
import { subscriberOf } from '../../core/pipeline/sink.js';
import { httpResponse } from '../request/http-arguments.js';
import {
  answeredThroughResponse,
  rejectedByPipes,
  safeHeaders,
  serializeAnswer,
  storableError,
  type HttpResponse,
  type StoredAnswer,
} from './stored-answer.js';

/** What one request reads of its handler's `@Idempotent` (`HandlerIdempotency`, which compiled it at bootstrap). */
export interface IdempotencyOwner {
  /** `Class.method`: names the handler in errors. */
  readonly policy: string;
  readonly options: IdempotencyOptions;
  readonly leaseMs: number;
  readonly store: IdempotencyStore;
  /** Counted where each request's outcome is decided. */
  readonly stats: IdempotencyStats;
  /** The store's synchronous forms when it answers at once (the memory store), else `undefined`. */
  readonly immediate: ImmediateIdempotencyStore | undefined;
  /** The HTTP adapter, for replayed headers. */
  adapter(): HttpAdapterHost['httpAdapter'] | undefined;
  transportError(error: ResilienceError, context: ExecutionContext): unknown;
  /** Streams are sent but not stored: said once per handler. */
  warnStreaming(): void;
  /** An answer written through the response object is not stored: said once per handler. */
  warnResponseObject(): void;
}
/** While another request holds the key and this one waits (`onInFlight: { wait }`), how often the store is read. */
const WAIT_POLL_MS = 25;

/**
 * The cold Observable of one keyed request: each subscription is an {@link IdempotentRequest}. It carries what the
 * request needs as fields, so all requests share one subscribe function instead of a new closure each.
 */
export class IdempotentRequestObservable extends Observable<unknown> {
  constructor(
    readonly owner: IdempotencyOwner,
    readonly context: ExecutionContext,
    readonly recordKey: string,
    readonly fingerprint: string,
    readonly run: (recordKey: string | undefined) => Observable<unknown>,
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
  /** This request holds the lease and its handler is running (`run(true)` subscribed, not yet ended). */
  private running = false;
  /**
   * Set when whoever listened left (an outer interceptor unsubscribed, the client went away) while the handler ran:
   * the status and headers as they were then, since what is sent afterwards (a 408 from an outer timeout) is not the
   * handler's answer.
   */
  private detached: { status: number; headers: Record<string, string> | undefined } | undefined;
  private waitUntil = 0;
  /** When the lease ends at the latest (`performance.now()`), measured from before `acquire` was sent. */
  private leaseEndsAt = 0;
  /** The handler's first value, held until it completes (a second one makes it a stream, which is not stored). */
  private held: { value: unknown } | undefined;
  private streaming = false;

  constructor(
    private readonly owner: IdempotencyOwner,
    private readonly context: ExecutionContext,
    private readonly recordKey: string,
    private readonly fingerprint: string,
    private readonly run: (recordKey: string | undefined) => Observable<unknown>,
    private readonly subscriber: Subscriber<unknown>,
  ) {}

  start(): TeardownLogic {
    this.acquire();
    return this;
  }

  /** @internal The subscription ended (answered, or the client left). */
  unsubscribe(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    if (!this.running) {
      this.inner?.unsubscribe();
      return;
    }
    // Nobody listens any more, but the handler goes on: its answer is stored when it ends, so that the client's
    // retry is replayed instead of running the work twice. Observed to its end, never forwarded; bounded by the
    // lease, after which the key may pass to another request and this answer could not be stored anyway.
    const response = httpResponse<HttpResponse>(this.context);
    this.detached = { status: response.statusCode, headers: safeHeaders(response) };
    this.timer = setTimeout(() => this.abandon(), this.owner.leaseMs);
    this.timer.unref?.();
  }

  /** The lease ran out while the handler was still observed with nobody listening: stop observing it. */
  private abandon(): void {
    this.running = false;
    this.owner.stats.inFlight--;
    this.inner?.unsubscribe();
  }

  private acquire(): void {
    const { owner } = this;
    if (owner.immediate !== undefined) {
      let result: IdempotencyAcquireResult;
      try {
        result = owner.immediate.acquireNow(this.recordKey, this.fingerprint, this.token, owner.leaseMs);
      } catch (error) {
        // The memory store full of live leases: a store that cannot take the key.
        this.onStoreError(error);
        return;
      }
      this.onAcquired(result);
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
      if (result.outcome === 'acquired') this.release();
      return;
    }
    if (result.outcome === 'acquired') {
      // This object is the observer of the handler's answer (next, error, complete): no closures per request, and
      // one plain Subscriber around it (what `subscribe(this)` would wrap in two objects).
      this.running = true;
      this.owner.stats.executed++;
      this.owner.stats.inFlight++;
      this.inner = this.run(this.recordKey).subscribe(subscriberOf(this));
      return;
    }
    if (result.fingerprint !== this.fingerprint) {
      this.owner.stats.mismatches++;
      this.fail(new IdempotencyKeyMismatchError(this.owner.policy));
      return;
    }
    if (result.outcome === 'completed') {
      this.replay(result.response);
      return;
    }
    const { onInFlight } = this.owner.options;
    if (onInFlight === 'reject') {
      this.owner.stats.conflicts++;
      this.fail(new IdempotencyKeyInFlightError(this.owner.policy, 1000));
      return;
    }
    this.waitUntil ||= Date.now() + onInFlight.wait;
    this.poll();
  }

  /** Waits for the request holding the key: its answer, or its release (then this one runs), or the deadline. */
  private poll(): void {
    if (Date.now() >= this.waitUntil) {
      this.owner.stats.conflicts++;
      this.fail(new IdempotencyKeyInFlightError(this.owner.policy, 1000));
      return;
    }
    this.timer = setTimeout(() => {
      this.owner.store.get(this.recordKey).then(
        (record) => {
          if (this.closed) return;
          if (record === undefined) this.acquire();
          else if (record.fingerprint !== this.fingerprint) {
            this.owner.stats.mismatches++;
            this.fail(new IdempotencyKeyMismatchError(this.owner.policy));
          } else if (record.state === 'completed') this.replay(record.response);
          else this.poll();
        },
        (error: unknown) => this.onStoreError(error),
      );
    }, WAIT_POLL_MS);
  }

  private onStoreError(error: unknown): void {
    if (this.closed) return;
    this.owner.stats.storeErrors++;
    if (this.owner.options.onStoreError === 'allow') {
      this.inner = this.run(undefined).subscribe(this.subscriber);
      return;
    }
    this.fail(new IdempotencyStoreUnavailableError(this.owner.policy, error));
  }

  /** @internal The handler's values. */
  next(value: unknown): void {
    if (this.streaming) {
      if (this.detached === undefined) this.subscriber.next(value);
      return;
    }
    if (this.held === undefined && !(value instanceof StreamableFile)) {
      this.held = { value };
      return;
    }
    // A stream: sent as it comes, never stored.
    this.streaming = true;
    this.owner.warnStreaming();
    if (this.detached === undefined) {
      if (this.held !== undefined) this.subscriber.next(this.held.value);
      this.subscriber.next(value);
    }
    this.held = undefined;
  }

  /** @internal */
  complete(): void {
    if (!this.end()) return;
    if (this.streaming) {
      this.release();
      this.subscriber.complete();
      return;
    }
    const body = this.held?.value;
    const { detached } = this;
    let answer: StoredAnswer;
    if (detached === undefined) {
      const response = httpResponse<HttpResponse>(this.context);
      if (answeredThroughResponse(response, body)) {
        // What the handler wrote itself cannot be replayed: nothing is stored (said once per route).
        this.release();
        this.owner.warnResponseObject();
        if (this.held !== undefined) this.subscriber.next(body);
        this.subscriber.complete();
        return;
      }
      answer = { status: response.statusCode, body, headers: safeHeaders(response) };
    } else {
      answer = { status: detached.status, body, headers: detached.headers };
    }
    this.settle(answer, () => {
      if (this.held !== undefined) this.subscriber.next(body);
      this.subscriber.complete();
    });
  }

  /** @internal */
  error(error: unknown): void {
    if (!this.end()) return;
    // Refused before the handler began (a pipe's validation error): nothing of the handler's to keep, and the
    // client may correct its request and send it again under the same key, as Stripe's API allows.
    const answer = rejectedByPipes(this.context) ? undefined : storableError(error, this.owner.options.replay);
    if (answer === undefined) {
      this.release();
      this.subscriber.error(error);
      return;
    }
    this.settle(answer, () => this.subscriber.error(error));
  }

  /**
   * The handler ended: false when it ended only because the lease ran out while nobody listened (`abandon`), or when
   * this request ran without idempotency (`onStoreError: 'allow'` passes the handler's answer on by itself).
   */
  private end(): boolean {
    if (!this.running) return false;
    this.running = false;
    this.owner.stats.inFlight--;
    clearTimeout(this.timer);
    return true;
  }

  /** Gives the key up: the next request with it runs. */
  private release(): void {
    void this.owner.store.release(this.recordKey, this.token).catch(() => false);
  }

  /** Completes the record with the answer, then sends it; a store failing now still lets the answer through. */
  private settle(answer: StoredAnswer, send: () => void): void {
    let serialized: string;
    try {
      serialized = serializeAnswer(answer);
    } catch {
      this.release();
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
    this.owner.stats.replayed++;
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
