/**
 * A value that `retryOnResult` (or `hedgeOnResult`) matched: the policy treats the attempt as failed, like an error,
 * and keeps the value in case no attempt does better (the caller then gets it, see `RetryOptions.retryOnResult`).
 * Never seen outside the policy that made it.
 * @internal
 */
export class HandledResult {
  constructor(readonly value: unknown) {}
}
