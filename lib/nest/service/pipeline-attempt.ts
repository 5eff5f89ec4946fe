import type { Invocation } from '../../core/pipeline/invocation.js';

/** What the callback of `ResilienceService.execute` receives on each attempt. */
export interface PipelineAttempt {
  /**
   * Aborted when this attempt times out (or the whole call, with a `total` timeout): pass it to `fetch`, an HTTP
   * client or a driver so the work really stops. Created only when read.
   */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry ... */
  readonly attempt: number;
  /**
   * The key to send as `Idempotency-Key` to the downstream this attempt calls, while serving a request that brought
   * an `Idempotency-Key` to an `@Idempotent` handler: derived from that request's scoped key and the pipeline's target
   * (`ResilienceService.<name>`, and which call of it this is; see docs/idempotency.md), the same on every attempt and
   * hedged attempt of the call, and the same again when the client retries the request. `undefined` outside a keyed
   * request (`getIdempotencyKey()` makes a random key there). Computed when read.
   */
  readonly idempotencyKey: string | undefined;
}

/** A view of the running invocation: the signal is created only when the callback reads it. */
export class InvocationAttempt implements PipelineAttempt {
  constructor(private readonly invocation: Invocation) {}

  get signal(): AbortSignal {
    return this.invocation.signal();
  }

  get attempt(): number {
    return this.invocation.attempt;
  }

  get idempotencyKey(): string | undefined {
    return this.invocation.derivedIdempotencyKey();
  }
}
