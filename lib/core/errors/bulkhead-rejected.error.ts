import { ResilienceError } from './resilience.error.js';

/** Thrown when a bulkhead has no free slot and its queue is full, or a queued call waited longer than allowed. */
export class BulkheadRejectedError extends ResilienceError {
  readonly code = 'BULKHEAD_REJECTED';

  constructor(
    policy: string,
    /**
     * `full`: no slot and no queue room; `wait`: queued longer than `maxWait`; `limit`: over an adaptive bulkhead's
     * current limit.
     */
    readonly reason: 'full' | 'wait' | 'limit',
  ) {
    super(
      reason === 'full'
        ? `Bulkhead "${policy}" is full: no free slot and no room in its queue`
        : reason === 'wait'
          ? `Bulkhead "${policy}" rejected the call: it waited in the queue longer than allowed`
          : `Bulkhead "${policy}" is at its adaptive concurrency limit`,
      policy,
    );
  }
}
