import { ServiceUnavailableException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * One scripted run of the handler (one `@Retry` attempt, or one run for a new request). It reads the attempt's
 * `@TimeoutSignal()` as a well-behaved handler does (a downstream call given the signal): a timed-out attempt
 * commits nothing, else `@Retry` itself would charge twice (the documented limit "a handler that has side effects
 * but fails", not what this model tests). Only a timeout aborts that signal: an outer interceptor that unsubscribes,
 * or a client that leaves, does not stop the work, which goes on and commits.
 */
export interface HandlerStep {
  /** Milliseconds the work takes before it commits. */
  readonly latency: number;
  /** Fails (a 5xx, before committing anything) instead of committing. */
  readonly fail: boolean;
}

/** The side effect: one charge, committed by one run of the handler. */
export interface Execution {
  readonly id: string;
  readonly replica: string;
}

/** What the handler answers: the charge it committed. */
export interface ChargeAnswer {
  readonly key: string;
  readonly execution: string;
}

/** After the script of a key is used up, the handler succeeds at once. */
const DEFAULT_STEP: HandlerStep = { latency: 1, fail: false };

/**
 * The "payment gateway" every replica calls: it records each committed charge, and never deduplicates (the worst
 * downstream), so a handler that runs twice for one key shows as two executions. Module-level so that the replicas
 * (two Nest apps in this process) share it, as they would share a real gateway.
 */
export class Ledger {
  private readonly scripts = new Map<string, readonly HandlerStep[]>();
  private readonly runs = new Map<string, number>();
  private readonly executions = new Map<string, Execution[]>();

  /** The handler's runs for `key`, in order; runs past the script succeed at once. */
  script(key: string, steps: readonly HandlerStep[]): void {
    this.scripts.set(key, steps);
  }

  executionsOf(key: string): readonly Execution[] {
    return this.executions.get(key) ?? [];
  }

  runsOf(key: string): number {
    return this.runs.get(key) ?? 0;
  }

  /** Drops what a finished schedule left (its keys are never used again). */
  forget(keys: readonly string[]): void {
    for (const key of keys) {
      this.scripts.delete(key);
      this.runs.delete(key);
      this.executions.delete(key);
    }
  }

  /** One run of the handler for `key` on `replica`. */
  async charge(replica: string, key: string, signal: AbortSignal | undefined): Promise<ChargeAnswer> {
    const run = this.runsOf(key);
    this.runs.set(key, run + 1);
    const step = this.scripts.get(key)?.[run] ?? DEFAULT_STEP;
    await sleep(step.latency, undefined, { signal });
    if (step.fail) throw new ServiceUnavailableException('scripted failure');
    // Committed in the same turn as the answer leaves: no timer can fire between the check and the commit.
    if (signal?.aborted) throw signal.reason;
    const execution: Execution = { id: randomUUID(), replica };
    let list = this.executions.get(key);
    if (list === undefined) this.executions.set(key, (list = []));
    list.push(execution);
    return { key, execution: execution.id };
  }
}

export const ledger = new Ledger();
