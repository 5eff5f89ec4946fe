import { catchError, defer, ignoreElements } from 'rxjs';
import { BrokenCircuitError } from '../errors/broken-circuit.error.js';
import type { ResilienceEvents } from '../events/resilience-events.js';
import type { Invocation } from '../pipeline/invocation.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';
import type { ResolvedDeadLetterOptions } from './dead-letter.options.js';
import { describeError, type DeadLetterQueue } from './dead-letter.queue.js';

/** The message of a call as a letter keeps it: its pattern and its data. */
export type MessageOf = (invocation: Invocation) => { pattern: unknown; args: readonly unknown[] };

/**
 * Outermost: when the policies inside give up (retries exhausted, a non-retryable error, a circuit open for longer
 * than `openCircuitLimit`), writes the message to the dead-letter queue and completes the call without a value, so
 * the broker does not redeliver it. When the store cannot take the letter, the call fails with its own error, as it
 * would have without the policy (the broker keeps the message).
 */
export class DeadLetterPolicy implements ResiliencePolicy {
  constructor(
    readonly name: string,
    /** @internal */
    readonly queue: DeadLetterQueue,
    private readonly options: ResolvedDeadLetterOptions,
    private readonly messageOf: MessageOf,
    private readonly events: ResilienceEvents,
  ) {}

  wrapPromise(next: PromiseStep): PromiseStep {
    return (invocation) => next(invocation).then(undefined, (error: unknown) => this.capture(error, invocation));
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    return (invocation) =>
      next(invocation).pipe(
        catchError((error: unknown) => defer(() => this.capture(error, invocation)).pipe(ignoreElements())),
      );
  }

  private capture(error: unknown, invocation: Invocation): Promise<undefined> {
    if (!this.applies(error)) return Promise.reject(error);
    let letter;
    try {
      const { pattern, args } = this.messageOf(invocation);
      letter = {
        queue: this.queue.name,
        pattern,
        args,
        error: describeError(error),
        attempts: invocation.attempt,
        deadLetteredAt: Date.now(),
      };
    } catch {
      return Promise.reject(error);
    }
    return this.queue.add(letter).then(
      (id) => {
        if (this.events.observed) {
          const { target } = invocation;
          this.events.emit({ type: 'dead-letter', policy: this.name, target, id, attempts: letter.attempts, error });
        }
        return undefined;
      },
      (storeError: unknown) => {
        if (this.events.observed) {
          const { target } = invocation;
          this.events.emit({ type: 'dead-letter-store-error', policy: this.name, target, error: storeError });
        }
        throw error; // the message is not lost: the handler fails as before, and the broker keeps it
      },
    );
  }

  private applies(error: unknown): boolean {
    if (error instanceof BrokenCircuitError && error.retryAt !== undefined) {
      // A short opening: let the broker bring the message back once the circuit may have closed.
      if (error.retryAt - Date.now() <= this.options.openCircuitLimit) return false;
    }
    return this.options.when === undefined || this.options.when(error);
  }
}
