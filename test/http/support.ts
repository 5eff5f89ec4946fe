import { ResilienceEvents, ResilienceRegistry } from 'nest-resilience';
import { ResilientHttpClient, type ResilientHttpClientOptions } from 'nest-resilience/http';

/** A client outside Nest, with its own registry and events: what the module builds for each `register`. */
export function clientOf(options: ResilientHttpClientOptions): {
  client: ResilientHttpClient;
  registry: ResilienceRegistry;
  events: ResilienceEvents;
} {
  const events = new ResilienceEvents();
  const registry = new ResilienceRegistry(events);
  return { client: new ResilientHttpClient(options, registry, events), registry, events };
}

/** Fast policies for tests: no real waiting anywhere (retries after 1 ms, `Retry-After` capped at 50 ms). */
export const FAST = {
  retry: { initialDelay: 1, maxDelay: 50 },
} satisfies Partial<ResilientHttpClientOptions>;
