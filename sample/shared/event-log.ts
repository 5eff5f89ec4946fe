import { Logger } from '@nestjs/common';
import type { ResilienceEvent, ResilienceEvents } from 'nest-resilience';

/** Logs what the policies do, the way an application would feed its metrics. */
export function logResilienceEvents(events: ResilienceEvents, logger = new Logger('Resilience')): () => void {
  return events.subscribe((event) => logger.log(describe(event)));
}

function describe(event: ResilienceEvent): string {
  switch (event.type) {
    case 'circuit-state':
      return `circuit ${event.policy}: ${event.from} -> ${event.to} (${event.reason})`;
    case 'rate-limit-store-error':
      return `rate-limit store unavailable for ${event.key}: decided "${event.decision}"`;
    case 'rate-limit-store-recovered':
      return `rate-limit store back after ${event.downtimeMs} ms`;
    case 'coordination-error':
      return `breaker coordination (${event.operation}) failed for ${event.policy}`;
    case 'dead-letter-replay':
      return `dead letter ${event.id} of ${event.policy} replayed: ${event.outcome}`;
    case 'concurrency-limit':
      return `bulkhead ${event.policy}: limit ${event.previous} -> ${event.limit}`;
    case 'load-pressure':
      return event.level > 0 ? `load shedding on (${event.reason})` : 'load shedding off';
    case 'outbox-parked':
      return `publisher ${event.policy}: message ${event.messageId} to ${event.lane} parked (outbox: ${event.depth})`;
    case 'outbox-sent':
      return `publisher ${event.policy}: parked message ${event.messageId} sent (outbox: ${event.depth})`;
    case 'outbox-full':
      return `publisher ${event.policy}: outbox full (${event.limit}), message ${event.messageId} refused`;
    default:
      return `${event.type} ${event.policy} on ${event.target.methodName}`;
  }
}
