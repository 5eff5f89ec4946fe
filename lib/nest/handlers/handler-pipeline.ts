import type { CallHandler, ExecutionContext } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { Observable } from 'rxjs';
import type { PolicyTarget } from '../../core/events/resilience-event.interface.js';
import type { Sink, SinkPolicy, SinkStep } from '../../core/pipeline/sink.js';
import { composeFusedObservable } from '../../core/pipeline/fused-observable.js';
import { handlerInvocations } from '../../core/pipeline/handler-invocations.js';
import { Invocation } from '../../core/pipeline/invocation.js';
import { RequestKeyScope, requestKeys } from '../../core/idempotency/request-key.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../../core/pipeline/policy.interface.js';
import { toTransportError } from '../errors/transport-errors.js';
import type { HandlerIdempotency } from './handler-idempotency.js';
import { IDEMPOTENT_HTTP_METHODS } from '../request/idempotent-methods.js';
import { httpRequest } from '../request/http-arguments.js';

/**
 * One call of a handler: its arguments are `[context]`, and the rest of the pipeline is Nest's `next.handle()`. It is
 * also the request's outermost sink, mapping resilience errors to the transport's answer (see
 * `TransportAnswerPolicy`): one object per request rather than two.
 */
class HandlerInvocation extends Invocation implements Sink {
  /** `next.handle()`, made once per request; undefined when each attempt makes its own (see `callHandler`). */
  source: Observable<unknown> | undefined;
  callHandler!: CallHandler;
  /** The request's key when it brought one to `@Idempotent`: each attempt runs in a scope of its own. */
  requestKey: RequestKeyScope | undefined;
  /** Where the answer goes once mapped: the subscriber of the pipeline's Observable, set when it subscribes. */
  answers: Sink | undefined = undefined;
  adapterHost!: HttpAdapterHost;

  protected override copy(): HandlerInvocation {
    const child = new HandlerInvocation(this.target, this.thisArg, this.args);
    child.source = this.source;
    child.callHandler = this.callHandler;
    child.requestKey = this.requestKey;
    child.adapterHost = this.adapterHost;
    return child;
  }

  next(value: unknown): void {
    this.answers!.next(value);
  }

  error(error: unknown): void {
    this.answers!.error(toTransportError(error, this.args[0] as ExecutionContext, this.adapterHost));
  }

  complete(): void {
    this.answers!.complete();
  }
}

/**
 * The handler's own call: Nest's `next.handle()`, which re-runs pipes and the handler on every subscription. A handler
 * with a `@TimeoutSignal()` parameter gets a `next.handle()` per attempt, made inside that attempt's async context
 * (Nest binds the handler's run to the context `handle()` was called in): so each attempt, a hedge's forks included,
 * reads its own signal rather than the request's first one.
 */
const callHandler: ObservableStep = (invocation) => {
  const handler = invocation as HandlerInvocation;
  if (handler.source !== undefined) return handler.source;
  const { requestKey } = handler;
  if (requestKey === undefined) return handlerInvocations.run(handler, () => handler.callHandler.handle());
  // Every attempt (a @Retry re-run, a hedged fork) numbers its downstream calls from 1 again: the same keys.
  return requestKeys.run(requestKey.renewed(), () =>
    handlerInvocations.run(handler, () => handler.callHandler.handle()),
  );
};

/** How the pipeline of one handler is built: its policies in the canonical order, outermost first. */
export interface HandlerPipelineParts {
  readonly target: PolicyTarget;
  /** Every policy of the handler. */
  readonly policies: readonly ResiliencePolicy[];
  /** The same without retry, for requests that must not be repeated; `undefined` when every request may be. */
  readonly policiesWithoutRetry: readonly ResiliencePolicy[] | undefined;
  /** The receiver of `@Fallback('method')`: the controller, resolver or gateway instance when it is a singleton. */
  readonly instance: unknown;
  /** True when a parameter is `@TimeoutSignal()`. */
  readonly usesTimeoutSignal: boolean;
  /**
   * True when every request of the handler may be repeated, known at bootstrap (a GET, PUT, DELETE ... route): its
   * requests skip the per-request check of `mayRepeat`.
   */
  readonly alwaysRepeatable: boolean;
  /** `@Idempotent`, run outside every policy; `undefined` when the handler has none. */
  readonly idempotency?: HandlerIdempotency;
}

/**
 * The policies of one handler, compiled once at bootstrap, applied by the `ResilienceInterceptor` to
 * `next.handle()`. A resilience error leaves as the answer its transport understands (see `toTransportError`).
 */
export class HandlerPipeline {
  private readonly all: ObservableStep;
  private readonly withoutRetry: ObservableStep | undefined;

  constructor(
    private readonly parts: HandlerPipelineParts,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    // The error mapping runs as the outermost policy of the fused chain: no Observable of its own per request.
    const answers = new TransportAnswerPolicy(adapterHost);
    this.all = composeFusedObservable([answers, ...parts.policies], callHandler);
    this.withoutRetry =
      parts.policiesWithoutRetry && composeFusedObservable([answers, ...parts.policiesWithoutRetry], callHandler);
  }

  /** Runs `next.handle()` through the policies for this request. */
  run(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const { idempotency } = this.parts;
    if (idempotency === undefined) return this.runPolicies(context, next, undefined);
    return idempotency.run(context, (recordKey) => this.runPolicies(context, next, recordKey));
  }

  /**
   * The policies around `next.handle()`; `recordKey`: the scoped key of an `@Idempotent` request that brought one,
   * which may then be repeated, and whose key the handler and its downstream calls read (`getIdempotencyKey()`).
   */
  private runPolicies(
    context: ExecutionContext,
    next: CallHandler,
    recordKey: string | undefined,
  ): Observable<unknown> {
    const requestKey = recordKey === undefined ? undefined : new RequestKeyScope(recordKey);
    // `@Idempotent` alone: no policy, so no resilience error to map either.
    if (this.parts.policies.length === 0) {
      // Nest runs the handler in the async context `handle()` is called in.
      return requestKey === undefined ? next.handle() : requestKeys.run(requestKey, () => next.handle());
    }
    const invocation = new HandlerInvocation(this.parts.target, this.parts.instance, [context]);
    invocation.callHandler = next;
    invocation.adapterHost = this.adapterHost;
    invocation.requestKey = requestKey;
    invocation.source = this.parts.usesTimeoutSignal || requestKey !== undefined ? undefined : next.handle();
    const keyed = requestKey !== undefined;
    const step =
      this.withoutRetry !== undefined && !keyed && !this.parts.alwaysRepeatable && !mayRepeat(context)
        ? this.withoutRetry
        : this.all;
    return step(invocation);
  }
}

/**
 * Turns a resilience error into its transport's answer (an `HttpException`, `RpcException`, `WsException` or a
 * GraphQL error), outermost, so that every policy inside sees the library's own errors.
 */
class TransportAnswerPolicy implements SinkPolicy {
  readonly name = 'transport answers';

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  wrapSink(next: SinkStep): SinkStep {
    return (invocation, sink) => {
      // The pipeline's own invocation is the sink, on its first subscription; a second subscription to the same
      // Observable (a user's operator re-subscribing) gets a sink of its own rather than taking the first one's.
      if (invocation instanceof HandlerInvocation && invocation.answers === undefined) {
        invocation.answers = sink;
        return next(invocation, invocation);
      }
      return next(invocation, new TransportAnswerSink(sink, invocation, this.adapterHost));
    };
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    return (invocation) =>
      new Observable<unknown>((subscriber) =>
        next(invocation).subscribe(new TransportAnswerSink(subscriber, invocation, this.adapterHost)),
      );
  }

  wrapPromise(next: PromiseStep): PromiseStep {
    return (invocation) =>
      next(invocation).then(undefined, (error: unknown) => {
        throw toTransportError(error, invocation.args[0] as ExecutionContext, this.adapterHost);
      });
  }
}

/** Passes values on and maps the error: for an invocation already answering another subscriber. */
class TransportAnswerSink implements Sink {
  constructor(
    private readonly sink: Sink,
    private readonly invocation: Invocation,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  next(value: unknown): void {
    this.sink.next(value);
  }

  error(error: unknown): void {
    this.sink.error(toTransportError(error, this.invocation.args[0] as ExecutionContext, this.adapterHost));
  }

  complete(): void {
    this.sink.complete();
  }
}

/**
 * Whether this request may be repeated by `@Retry`: HTTP requests by their method (GET, PUT, DELETE ... yes; POST,
 * PATCH no, unless `@Idempotent` with a key: see `runPolicies`), GraphQL operations unless they are mutations;
 * messages and events yes.
 */
function mayRepeat(context: ExecutionContext): boolean {
  const type = context.getType<string>();
  if (type === 'http') {
    const { method } = httpRequest<{ method?: string }>(context);
    return method === undefined || IDEMPOTENT_HTTP_METHODS.has(method);
  }
  if (type === 'graphql') {
    const info = context.getArgByIndex<{ operation?: { operation?: string } } | undefined>(3);
    return info?.operation?.operation !== 'mutation';
  }
  return true;
}
