import { randomUUID } from 'node:crypto';

/** Random once per process: tokens of two processes sharing a store (Redis) never meet. */
const PROCESS_PREFIX = `${randomUUID()}:`;
let counter = 0;

/**
 * A new fencing token for an idempotency lease. A token only has to differ from every other lease's (the store
 * compares it, nobody guesses it): a per-process random prefix and a counter make it unique across replicas, at the
 * cost of a string concatenation instead of a `randomUUID()` per request.
 */
export function nextFencingToken(): string {
  counter = counter === Number.MAX_SAFE_INTEGER ? 0 : counter + 1;
  return PROCESS_PREFIX + counter.toString(36);
}
