import { MetadataScanner, type ModulesContainer } from '@nestjs/core';
import type { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import { RMQ_ACKNOWLEDGE_METADATA, type ResolvedRmqAcknowledgeOptions } from './rmq-acknowledge.options.js';
import type { RmqDeadLetterStore } from './rmq-dead-letter.store.js';

/**
 * Makes the dead-letter queue of every `@RmqAcknowledge` handler of the application a queue of
 * `registry.deadLetters` (named like the broker's queue, `<queue>.dead-letter` by default), read from `store`, whose
 * replays re-publish each letter to its original exchange and routing key. Registering one queue twice is harmless.
 */
export function registerRmqDeadLetterQueues(
  modules: ModulesContainer,
  registry: ResilienceRegistry,
  store: RmqDeadLetterStore,
): void {
  const scanner = new MetadataScanner();
  for (const module of modules.values()) {
    for (const wrapper of module.controllers.values()) {
      const prototype = (wrapper.metatype as { prototype?: object } | null | undefined)?.prototype;
      if (prototype === undefined) continue;
      for (const name of scanner.getAllMethodNames(prototype)) {
        const method = (prototype as Record<string, unknown>)[name];
        if (typeof method !== 'function') continue;
        const options = Reflect.getMetadata(RMQ_ACKNOWLEDGE_METADATA, method) as
          ResolvedRmqAcknowledgeOptions | undefined;
        if (options === undefined) continue;
        const queue = options.deadLetterQueue;
        registry.deadLetterQueueFor(queue, store).replayWith((letter) => store.republish(queue, letter.id));
      }
    }
  }
}
