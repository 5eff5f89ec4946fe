import type { Invocation } from '../core/pipeline/invocation.js';
import { pendingPromiseFor } from '../core/pipeline/pending-promise.js';
import type { DeadlineNode } from '../core/timeout/deadline-queue.js';
import type { TimeoutPolicy } from '../core/timeout/timeout.policy.js';
import type { HttpCall } from './http-call.js';

/** What the caller gets of a failed call (the client decides): a value (a failed `Response`), else it throws. */
export type FailedCall = (error: unknown, call: HttpCall, policy: string) => unknown;

/**
 * One call of a client with a total timeout, and its own deadline node: the caller's Promise settles with the call's
 * outcome or at the deadline, whichever comes first. At the deadline the call is given up (its attempt aborted, a
 * backoff or a bulkhead queue left, a `timeout` event) and the caller gets the total timeout's error at once, whatever
 * the work does next. The total timeout as a step of its own cost a Promise with an executor, a deadline object and
 * four closures per call, the largest part of the pipeline's cost around fetch; this object replaces the client's own
 * `then` step too.
 */
export class HttpCallRun implements DeadlineNode {
  older?: DeadlineNode = undefined;
  newer?: DeadlineNode = undefined;
  at = 0;
  private ended = false;
  /** @internal The caller's Promise's resolving functions, left here by `pendingPromiseFor`. */
  resolve: (value: unknown) => void = ignore;
  /** @internal */
  reject: (reason: unknown) => void = ignore;

  constructor(
    private readonly call: HttpCall,
    private readonly invocation: Invocation,
    private readonly total: TimeoutPolicy,
    private readonly policy: string,
    private readonly failedCall: FailedCall,
  ) {}

  /** Starts the deadline: before the call's first step runs, so that all of the call counts against it. */
  arm(): void {
    this.total.deadlines.schedule(this);
  }

  /** The caller's Promise of the call that `running` is. */
  outcomeOf(running: Promise<unknown>): Promise<unknown> {
    const outcome = pendingPromiseFor(this);
    running.then(
      (value) => this.settle(true, value),
      (error: unknown) => this.settle(false, error),
    );
    return outcome;
  }

  /** The deadline passed (the queue already let go of this node): the caller gets the timeout now. */
  expire(): void {
    if (this.ended) return;
    this.ended = true;
    this.end(false, this.total.expire(this.invocation));
  }

  private settle(succeeded: boolean, result: unknown): void {
    if (this.ended) {
      // Timed out already: the caller has its error. What the work still answered is let go of (a `Response`'s body
      // cancelled, a failed answer drained or cancelled), so that its socket does not wait for the collector.
      if (succeeded && result instanceof Response) result.body?.cancel().catch(ignore);
      if (this.call.holdsAnswer) void this.call.discard();
      return;
    }
    this.ended = true;
    this.total.deadlines.clear(this);
    this.end(succeeded, result);
  }

  private end(succeeded: boolean, result: unknown): void {
    const { call } = this;
    try {
      if (succeeded) {
        // Hedged attempts run side by side: a loser may still hold a failed answer when the winner answers.
        if (call.holdsAnswer) void call.discard();
        this.resolve(result);
      } else {
        this.resolve(this.failedCall(result, call, this.policy));
      }
    } catch (error) {
      this.reject(error);
    }
  }
}

function ignore(): void {}
