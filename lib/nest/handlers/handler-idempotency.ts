import { Logger, type ExecutionContext } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { throwError, type Observable } from 'rxjs';
import {
  IdempotencyBodyUnreadError,
  IdempotencyKeyInvalidError,
  IdempotencyKeyMissingError,
} from '../../core/errors/idempotency-key.error.js';
import type { ResilienceError } from '../../core/errors/resilience.error.js';
import { parseIdempotencyKey } from '../../core/idempotency/idempotency-key.js';
import type {
  IdempotencyStore,
  ImmediateIdempotencyStore,
} from '../../core/idempotency/idempotency-store.interface.js';
import { MemoryIdempotencyStore } from '../../core/idempotency/memory-idempotency.store.js';
import type { IdempotencyOptions } from '../../core/idempotency/idempotency.options.js';
import type { IdempotencyStats } from '../../core/idempotency/idempotency-stats.js';
import { IdempotencyRecordKeys } from '../../core/idempotency/record-keys.js';
import { keyFrom } from '../../core/validation/key-data.js';
import { pickFields, requestFingerprint } from '../../core/idempotency/request-fingerprint.js';
import { toTransportError } from '../errors/transport-errors.js';
import { IdempotentRequestObservable, type IdempotencyOwner } from './idempotent-request.js';
import { httpRequest } from '../request/http-arguments.js';
import { MessageIdempotency } from './message-idempotency.js';

/** What the handler step reads of an HTTP request on Express and Fastify. */
interface HttpRequest {
  method: string;
  url: string;
  originalUrl?: string;
  body?: unknown;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * `@Idempotent` on one handler, compiled at bootstrap: the step of the handler pipeline outside every policy, so it
 * stores the answer the client finally gets (after `@Fallback`, with resilience errors already turned into HTTP
 * answers). HTTP requests by their `Idempotency-Key`; microservice messages by `key` (see `MessageIdempotency`).
 */
export class HandlerIdempotency implements IdempotencyOwner {
  private readonly methods: ReadonlySet<string>;
  private readonly recordKeys: IdempotencyRecordKeys;
  /** The store keeps records in this process: short requests are their own fingerprints (no hash). */
  private readonly exactFingerprints: boolean;
  /** @internal The store's synchronous forms when it answers at once (the memory store), else `undefined`. */
  readonly immediate: ImmediateIdempotencyStore | undefined;
  private warned = false;
  /** The fingerprint covers the body (all of it, or listed fields), rather than a function of the request. */
  private readonly fingerprintsBody: boolean;
  private warnedResponseObject = false;
  /** On a message handler (`key` is then required at bootstrap): the step that keys messages. */
  private readonly message: MessageIdempotency | undefined;

  constructor(
    /** `Class.method`: names the handler in errors, and scopes its records. */
    readonly policy: string,
    readonly options: IdempotencyOptions,
    readonly leaseMs: number,
    readonly store: IdempotencyStore,
    private readonly adapterHost: HttpAdapterHost,
    /** What this handler's keyed requests did, for `registry.idempotency` and the dashboard. */
    readonly stats: IdempotencyStats,
    /** While it answers `false`, requests run as if the handler had no `@Idempotent` (the testing kit's switch). */
    private readonly active?: () => boolean,
  ) {
    this.methods = new Set(options.methods);
    this.fingerprintsBody = typeof options.fingerprint !== 'function';
    this.recordKeys = new IdempotencyRecordKeys(policy);
    this.exactFingerprints = store.exactFingerprints === true;
    this.immediate = store instanceof MemoryIdempotencyStore ? store.immediate() : undefined;
    this.message =
      options.key === undefined
        ? undefined
        : new MessageIdempotency(
            policy,
            options,
            leaseMs,
            store,
            (error, context) => this.transportError(error as ResilienceError, context),
            stats,
          );
  }

  /**
   * Runs the request through `run` (the policies and the handler) with idempotency: the scoped record key tells
   * `run` that the request carries a key, which makes a POST repeatable for `@Retry` and is what the handler's
   * downstream keys derive from (`undefined`: no key).
   */
  run(context: ExecutionContext, run: (recordKey: string | undefined) => Observable<unknown>): Observable<unknown> {
    if (this.active !== undefined && !this.active()) return run(undefined);
    if (this.message !== undefined && context.getType() === 'rpc') return this.message.run(context, run);
    if (context.getType() !== 'http') return run(undefined);
    const request = httpRequest<HttpRequest>(context);
    const { method } = request;
    if (!this.methods.has(method)) return run(undefined);
    const header = request.headers['idempotency-key'];
    if (header === undefined) {
      return this.options.required ? this.refuse(new IdempotencyKeyMissingError(this.policy), context) : run(undefined);
    }
    const key = typeof header === 'string' ? parseIdempotencyKey(header) : undefined;
    if (key === undefined) return this.refuse(new IdempotencyKeyInvalidError(this.policy), context);
    if (this.fingerprintsBody && request.body === undefined && hasBody(request)) {
      return this.refuse(
        new IdempotencyBodyUnreadError(this.policy, headerText(request.headers['content-type'])),
        context,
      );
    }
    let recordKey: string;
    let fingerprint: string;
    try {
      const { scope } = this.options;
      const scoped = scope === undefined ? '' : keyFrom((scope as Scope)(context), this.policy, 'idempotency-scope');
      recordKey = this.recordKeys.of(method, scoped, key);
      fingerprint = requestFingerprint(
        method,
        request.originalUrl ?? request.url,
        this.covered(context, request),
        this.exactFingerprints,
      );
    } catch (error) {
      // A scope that is not a key (`InvalidKeyError`) as the transport's answer; a throwing function as it threw.
      return throwError(() => this.transportError(error as ResilienceError, context));
    }
    return new IdempotentRequestObservable(this, context, recordKey, fingerprint, run);
  }

  /** @internal The HTTP adapter, for replayed headers. */
  adapter(): HttpAdapterHost['httpAdapter'] | undefined {
    return this.adapterHost.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined;
  }

  /** @internal */
  transportError(error: ResilienceError, context: ExecutionContext): unknown {
    return toTransportError(error, context, this.adapterHost);
  }

  /** @internal Streams are sent but not stored: said once per handler. */
  warnStreaming(): void {
    if (this.warned) return;
    this.warned = true;
    new Logger('nest-resilience').warn(
      `@Idempotent on ${this.policy}: a streaming answer (StreamableFile, SSE, an Observable emitting more than ` +
        'once) is sent but not stored; its key is released',
    );
  }

  /** @internal A handler wrote its answer through the response object: not stored, said once per handler. */
  warnResponseObject(): void {
    if (this.warnedResponseObject) return;
    this.warnedResponseObject = true;
    new Logger('nest-resilience').error(
      `@Idempotent on ${this.policy}: the handler wrote its answer through the response object (it returned it, or ` +
        'sent it itself), so there is nothing to store and replay: its key is released and a retry runs it again. ' +
        'Return the body instead (use @Res({ passthrough: true }) only to set headers or the status)',
    );
  }

  private covered(context: ExecutionContext, request: HttpRequest): unknown {
    const { fingerprint } = this.options;
    if (fingerprint === undefined) return request.body;
    if (typeof fingerprint === 'function') return (fingerprint as (context: ExecutionContext) => unknown)(context);
    return pickFields(request.body, fingerprint);
  }

  private refuse(error: ResilienceError, context: ExecutionContext): Observable<never> {
    // Missing, malformed or unread keys are the client's mistakes before any record: not counted here.
    return throwError(() => this.transportError(error, context));
  }
}

type Scope = (context: ExecutionContext) => unknown;

/**
 * Whether the request came with a body (RFC 9112: a non-zero `Content-Length`, or `Transfer-Encoding`): when no
 * parser read it (`body` undefined, as Express leaves a type it has no parser for), its bytes are still in the
 * stream, and fingerprinting "no body" would let two different payloads pass for one.
 */
function hasBody(request: HttpRequest): boolean {
  const { headers } = request;
  const length = headers['content-length'];
  return (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
