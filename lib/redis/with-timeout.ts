import { ResilienceError } from '../core/errors/resilience.error.js';
/** Redis did not answer within the store's `commandTimeout` (code `STORE_TIMEOUT`). */
export class RedisStoreTimeoutError extends ResilienceError {
  readonly code = 'STORE_TIMEOUT';

  constructor(
    /** Milliseconds waited. */
    readonly timeoutMs: number,
  ) {
    super(`Redis did not answer within ${timeoutMs} ms`, 'RedisStore');
  }
}

/**
 * Settles like `promise`, or rejects after `ms` with a {@link RedisStoreTimeoutError}; the timer is cleared either way.
 * Ours, not only the client's `commandTimeout`, because a client given by the application may have none.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new RedisStoreTimeoutError(ms)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
