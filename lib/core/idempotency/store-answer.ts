import type { IdempotencyStore } from './idempotency-store.interface.js';

/** The first retry of a `complete` the store failed, then doubling up to the cap. */
const FIRST_RETRY_MS = 25;
const MAX_RETRY_MS = 500;

/**
 * Keeps trying to store an answer whose `complete` failed (a Redis restarting, a command that timed out), in the
 * background, until the store takes it, says the lease is no longer this request's (`false`: completed already by
 * a `complete` that timed out here but ran there, or lost), or the lease has run out (`leaseEndsAt`, on
 * `performance.now()`'s clock, measured from before `acquire` was sent, so never later than the store's own end).
 *
 * Why: the work ran, so its answer must be kept; left as a lease, the key frees itself when the lease ends and the
 * client's retry runs the work a second time (a second charge). Only a store down for the rest of the lease loses
 * it (docs/idempotency.md, "Guarantees and limits"). The timer is unref'd: it never keeps a process alive.
 */
export function storeAnswerLater(
  store: IdempotencyStore,
  key: string,
  token: string,
  response: string,
  ttlMs: number,
  leaseEndsAt: number,
  delay = FIRST_RETRY_MS,
): void {
  const left = leaseEndsAt - performance.now();
  if (left <= delay) return;
  const timer = setTimeout(() => {
    void store
      .complete(key, token, response, ttlMs)
      .catch(() =>
        storeAnswerLater(store, key, token, response, ttlMs, leaseEndsAt, Math.min(delay * 2, MAX_RETRY_MS)),
      );
  }, delay);
  timer.unref();
}
