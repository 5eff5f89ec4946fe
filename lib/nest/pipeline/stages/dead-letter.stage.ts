import type { ExecutionContext } from '@nestjs/common';
import { DeadLetterPolicy, type MessageOf } from '../../../core/dead-letter/dead-letter.policy.js';
import type { DeadLetterStore } from '../../../core/dead-letter/dead-letter.interface.js';
import { validateDeadLetterOptions, type DeadLetterOptions } from '../../../core/dead-letter/dead-letter.options.js';
import type { ResilienceEvents } from '../../../core/events/resilience-events.js';
import type { PolicyTarget } from '../../../core/events/resilience-event.interface.js';
import { Invocation } from '../../../core/pipeline/invocation.js';
import { invokeAsActive } from '../../../core/pipeline/invocation.js';
import { liftToPromise } from '../../../core/pipeline/lift.js';
import type { ResiliencePolicy } from '../../../core/pipeline/policy.interface.js';
import { composePromise } from '../../../core/pipeline/resilient-method.js';
import type { ResilienceRegistry } from '../../../core/registry/resilience-registry.js';
import { OptionsValidator } from '../../../core/validation/options.validator.js';
import { DEAD_LETTER_METADATA, type PolicySpec } from '../../../decorators/resilience.metadata.js';
import type { PolicyKind, Stage } from '../stage.js';
import { isMessageHandler } from '../../request/handler-kind.js';

/** `@DeadLetter`: inline options only; the store is the module's. */
export const DEAD_LETTER_KIND: PolicyKind = {
  label: 'dead letter',
  decorator: '@DeadLetter',
  metadataKey: DEAD_LETTER_METADATA,
};

/** Outermost but idempotency: writes what the policies inside gave up on (even the fallback) to the queue. */
export const DEAD_LETTER_STAGE = {
  name: 'dead letter',
  kind: DEAD_LETTER_KIND,
  build: ({ read, method, declaredAt, site }, { events, registry, options }) => {
    const spec = read(DEAD_LETTER_METADATA) as PolicySpec<DeadLetterOptions> | undefined;
    // Only decorated methods have dead letters (a ResilienceService pipeline has no message to store).
    if (spec === undefined || method === undefined) return [];
    const store = options.deadLetterStore;
    return [buildDeadLetterPolicy(spec, { method, declaredAt, site, events, registry, store })];
  },
} as const satisfies Stage;

/** What building a method's dead-letter policy needs from the pipeline factory. */
export interface DeadLetterStageContext {
  readonly method: object;
  readonly declaredAt: string;
  readonly site: 'provider' | 'handler';
  readonly events: ResilienceEvents;
  readonly registry: ResilienceRegistry;
  /** The module's `deadLetterStore`; else the application's memory store. */
  readonly store: DeadLetterStore | undefined;
}

/** The `@DeadLetter` policy of a method, checked at bootstrap. */
export function buildDeadLetterPolicy(
  spec: PolicySpec<DeadLetterOptions>,
  { method, declaredAt, site, events, registry, store }: DeadLetterStageContext,
): DeadLetterPolicy {
  const options = validateDeadLetterOptions(
    spec.options ?? {},
    new OptionsValidator('dead letter', declaredAt, declaredAt),
  );
  const name = options.name ?? declaredAt;
  if (site === 'handler' && !isMessageHandler(method)) {
    new OptionsValidator('dead letter', name, declaredAt).fail(
      '@DeadLetter',
      declaredAt,
      'applies to microservice handlers (@MessagePattern, @EventPattern) and provider methods only: an HTTP, ' +
        'WebSocket or GraphQL client waits for its answer, there is no broker to stop redelivering',
    );
  }
  const messageOf: MessageOf =
    site === 'handler'
      ? messageOfHandler(declaredAt)
      : (invocation) => ({
          pattern: declaredAt,
          args: invocation.args,
        });
  return new DeadLetterPolicy(name, registry.deadLetterQueueFor(name, store), options, messageOf, events);
}

/** A message handler's letter: the pattern from the transport's context (TCP, Redis, NATS ... have `getPattern`). */
function messageOfHandler(declaredAt: string): MessageOf {
  return (invocation) => {
    const rpc = (invocation.args[0] as ExecutionContext).switchToRpc();
    const transport = rpc.getContext<{ getPattern?: () => unknown } | undefined>();
    const pattern = typeof transport?.getPattern === 'function' ? transport.getPattern() : declaredAt;
    return { pattern, args: [rpc.getData()] };
  };
}

/**
 * Makes the queue replay into `method` through the policies inside the dead-letter one (same breakers, retries and
 * fallbacks as a live call). The receiver is resolved at replay time; a handler gets the letter's data as its first
 * argument (pipes and parameter decorators do not run: there is no request).
 */
export function registerReplay(
  policies: readonly ResiliencePolicy[],
  method: object,
  target: PolicyTarget,
  receiver: () => unknown,
): void {
  // Outermost of the policies but the measuring and reporting steps (call metrics, call events), which a replay skips.
  const index = policies.findIndex((policy) => policy instanceof DeadLetterPolicy);
  if (index === -1) return;
  const deadLetter = policies[index] as DeadLetterPolicy;
  const inner = policies.slice(index + 1);
  const call = method as (...args: never[]) => unknown;
  const step = composePromise(inner, (invocation) => {
    try {
      return liftToPromise(invokeAsActive(invocation, call));
    } catch (error) {
      return Promise.reject(error);
    }
  });
  deadLetter.queue.replayWith((letter) => step(new Invocation(target, receiver(), letter.args)));
}
