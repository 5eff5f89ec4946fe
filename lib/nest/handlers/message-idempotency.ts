import type { ExecutionContext } from '@nestjs/common';
import { catchError, finalize, tap, throwError, type Observable } from 'rxjs';
import { IdempotencyStoreUnavailableError } from '../../core/errors/idempotency-key.error.js';
import type { PolicyTarget } from '../../core/events/resilience-event.interface.js';
import type { IdempotencyStore } from '../../core/idempotency/idempotency-store.interface.js';
import type { IdempotencyOptions } from '../../core/idempotency/idempotency.options.js';
import type { IdempotencyStats } from '../../core/idempotency/idempotency-stats.js';
import { IdempotentPolicy } from '../../core/idempotency/idempotent.policy.js';
import { Invocation } from '../../core/pipeline/invocation.js';
import type { ObservableStep } from '../../core/pipeline/policy.interface.js';
import { keyFrom } from '../../core/validation/key-data.js';

/** One message through `@Idempotent`: its data and context are the key function's arguments. */
class MessageInvocation extends Invocation {
  run!: (recordKey: string) => Observable<unknown>;
  /** The handler ran for this message (else it was answered from the record, or joined the run of a copy). */
  ran = false;

  protected override copy(): MessageInvocation {
    const child = new MessageInvocation(this.target, this.thisArg, this.args);
    child.run = this.run;
    return child;
  }
}

/**
 * `@Idempotent({ key: (data, context) => data.id })` on a microservice message or event handler (RMQ, TCP, Redis,
 * NATS ...): a redelivered message whose first processing completed is not processed again; its stored answer is
 * returned (so an `@RmqAcknowledge` handler acknowledges it), and a redelivery while the first still runs waits for
 * it (in this process it joins it; on another replica, through a shared store, it polls the record) rather than
 * running twice. The same policy as on provider methods (`IdempotentPolicy`): a lease while it runs, the answer for
 * `ttl` ms once it completed, a failure releases the key (the redelivery runs again) unless `rememberErrors`.
 * `registry.idempotency` counts messages as it counts HTTP requests: `executed` (the handler ran), `replayed` (a copy
 * answered without running it: from the record, or by joining the run of the first copy), `inFlight`, `storeErrors`.
 */
export class MessageIdempotency {
  private readonly step: ObservableStep;

  private readonly target: PolicyTarget;

  constructor(
    /** `Class.method`. */
    name: string,
    options: IdempotencyOptions,
    leaseMs: number,
    store: IdempotencyStore,
    /** Maps a resilience error (store unavailable, a key that is not one) to the transport's answer. */
    private readonly transportError: (error: unknown, context: ExecutionContext) => unknown,
    /** The handler's counters in `registry.idempotency`. */
    private readonly stats: IdempotencyStats,
  ) {
    const dot = name.indexOf('.'); // class names have no dot
    this.target = { className: name.slice(0, dot), methodName: name.slice(dot + 1) };
    const keyFn = options.key as (data: unknown, context: ExecutionContext) => unknown;
    const policy = new IdempotentPolicy(
      name,
      (invocation) =>
        keyFrom(keyFn(invocation.args[0], invocation.args[1] as ExecutionContext), name, 'idempotency-key'),
      store,
      { ttl: options.ttl, lease: leaseMs, rememberErrors: options.rememberErrors, onStoreError: options.onStoreError },
    );
    // The record key scopes the handler's downstream keys (getIdempotencyKey()), as an HTTP request's does.
    const ended = () => stats.inFlight--;
    this.step = policy.wrapObservable((invocation) => {
      (invocation as MessageInvocation).ran = true;
      stats.executed++;
      stats.inFlight++;
      return (invocation as MessageInvocation).run(`${name}\u0000${invocation.idempotencyKey}`).pipe(finalize(ended));
    });
  }

  run(context: ExecutionContext, run: (recordKey: string | undefined) => Observable<unknown>): Observable<unknown> {
    const invocation = new MessageInvocation(this.target, undefined, [context.switchToRpc().getData(), context]);
    invocation.run = run;
    const { stats } = this;
    return this.step(invocation).pipe(
      tap({ complete: () => invocation.ran || stats.replayed++ }),
      catchError((error: unknown) => {
        if (error instanceof IdempotencyStoreUnavailableError) stats.storeErrors++;
        return throwError(() => this.transportError(error, context));
      }),
    );
  }
}
