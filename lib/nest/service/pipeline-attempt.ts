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
}
