import type { DeadLetterOptions } from '../core/dead-letter/dead-letter.options.js';
import { policyDecorator } from './policy-decorator.js';
import { DEAD_LETTER_METADATA, type PolicySpec } from './resilience.metadata.js';

/**
 * On a microservice message or event handler (`@MessagePattern`, `@EventPattern`) or a provider method: when the
 * policies give up (retries exhausted, a non-retryable error, a circuit open for longer than `openCircuitLimit`), the
 * message, its pattern, the error and the attempt count are written to a dead-letter store and the call completes
 * without a value, so the broker does not redeliver it forever. If the store cannot take it, the call fails as before
 * (the broker keeps the message). Inspect and replay with `registry.deadLetters` (`list`, `replay`, `delete`).
 *
 * @example `@DeadLetter()`, `@DeadLetter('orders')`, `@DeadLetter({ when: (error) => !(error instanceof Busy) })`.
 *          Defaults: the queue is named `Class.method`; openCircuitLimit 30 000 ms; every final error.
 */
export function DeadLetter(options?: DeadLetterOptions): MethodDecorator;
export function DeadLetter(name: string, options?: Omit<DeadLetterOptions, 'name'>): MethodDecorator;
export function DeadLetter(
  nameOrOptions?: string | DeadLetterOptions,
  options?: Omit<DeadLetterOptions, 'name'>,
): MethodDecorator {
  const spec: PolicySpec<DeadLetterOptions> =
    typeof nameOrOptions === 'string'
      ? { options: { ...options, name: nameOrOptions } }
      : { options: nameOrOptions ?? {} };
  return policyDecorator(DEAD_LETTER_METADATA, spec);
}
