import { Cluster, type Redis } from 'ioredis';
import { RedisStoreTimeoutError, withTimeout } from './with-timeout.js';

/** Per client: settles at its next `ready` event (one listener however many callers wait). */
const nextReady = new WeakMap<Redis | Cluster, Promise<void>>();

function ready(client: Redis | Cluster): Promise<void> {
  let pending = nextReady.get(client);
  if (pending === undefined) {
    if (client.status === 'wait') client.connect().catch(() => undefined);
    pending = new Promise<void>((resolve) =>
      client.once('ready', () => {
        nextReady.delete(client);
        resolve();
      }),
    );
    nextReady.set(client, pending);
  }
  return pending;
}

/** True when the client rejects its own commands within `timeoutMs` (ioredis `commandTimeout`): no second timer. */
export function timesOutItself(client: Redis | Cluster, timeoutMs: number): boolean {
  const options = client instanceof Cluster ? client.options.redisOptions : client.options;
  const own = options?.commandTimeout;
  return typeof own === 'number' && own <= timeoutMs;
}

/**
 * Sends a command and settles within `timeoutMs` whatever Redis does. Commands fail at once while disconnected (the
 * clients the store makes have no offline queue), so a command issued while the client connects (at startup, or
 * reconnecting) first waits for the connection, within the same deadline.
 */
export function sendWhenReady<T>(client: Redis | Cluster, send: () => Promise<T>, timeoutMs: number): Promise<T> {
  if (client.status === 'ready') return timesOutItself(client, timeoutMs) ? send() : withTimeout(send(), timeoutMs);
  const deadline = performance.now() + timeoutMs;
  return withTimeout(
    ready(client).then(() => {
      // Given up already: a command sent now would act late (spend a token nobody was granted).
      if (performance.now() >= deadline) throw new RedisStoreTimeoutError(timeoutMs);
      return send();
    }),
    timeoutMs,
  );
}
