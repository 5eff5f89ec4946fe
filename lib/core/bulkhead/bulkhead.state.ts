import { BulkheadRejectedError } from '../errors/bulkhead-rejected.error.js';
import type { ResilienceEvents } from '../events/resilience-events.js';
import type { Invocation } from '../pipeline/invocation.js';
import type { BulkheadOptions } from './bulkhead.options.js';
import { Compartment } from './compartment.js';

/** A bulkhead's figures, as the registry reports them. */
export interface BulkheadSnapshot {
  readonly name: string;
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  /** Calls running now, over all partitions. */
  readonly active: number;
  /** Calls waiting now, over all partitions. */
  readonly queued: number;
  /** Partitions currently in use (idle partitions are dropped). */
  readonly partitions: number;
}

const SINGLE = '';

/**
 * One named bulkhead, shared by every method naming it: its compartments, created per partition key on demand and
 * dropped as soon as they are idle, so the number kept is bounded by the calls in flight.
 */
export class BulkheadState {
  private readonly compartments = new Map<string, Compartment>();

  constructor(
    readonly name: string,
    readonly options: BulkheadOptions,
    private readonly events: ResilienceEvents,
  ) {}

  /** The partition key of a call. */
  keyOf(invocation: Invocation): string {
    const { key } = this.options;
    return key === undefined ? SINGLE : String((key as (...args: unknown[]) => unknown)(...invocation.args));
  }

  /** The one compartment of a bulkhead without a key function (never dropped), or undefined when partitioned. */
  singleCompartment(): Compartment | undefined {
    return this.options.key === undefined ? this.compartment(SINGLE) : undefined;
  }

  compartment(key: string): Compartment {
    let compartment = this.compartments.get(key);
    if (compartment === undefined) {
      compartment = new Compartment();
      this.compartments.set(key, compartment);
    }
    return compartment;
  }

  /**
   * Takes every free slot of the partition `key` (as if calls were running) and returns how many it took; give them
   * back with {@link BulkheadState.releaseSlots}. For tests and drills: the testing kit's `fillBulkhead`.
   */
  occupy(key: string = SINGLE): number {
    const compartment = this.compartment(key);
    const taken = Math.max(0, this.options.maxConcurrent - compartment.active);
    compartment.active += taken;
    return taken;
  }

  /** Gives back `count` slots taken by {@link BulkheadState.occupy} (queued calls get them first). */
  releaseSlots(count: number, key: string = SINGLE): void {
    const compartment = this.compartment(key);
    for (let i = 0; i < count; i++) compartment.release();
    this.dropIfIdle(key, compartment);
  }

  /** Forgets an idle partition. */
  dropIfIdle(key: string, compartment: Compartment): void {
    if (compartment.idle && key !== SINGLE) this.compartments.delete(key);
  }

  /** Builds the rejection and reports it. */
  reject(reason: 'full' | 'wait', invocation: Invocation): BulkheadRejectedError {
    if (this.events.observed) {
      this.events.emit({ type: 'bulkhead-rejected', policy: this.name, target: invocation.target, reason });
    }
    return new BulkheadRejectedError(this.name, reason);
  }

  snapshot(): BulkheadSnapshot {
    let active = 0;
    let queued = 0;
    let partitions = 0;
    for (const compartment of this.compartments.values()) {
      active += compartment.active;
      queued += compartment.queued;
      if (!compartment.idle) partitions++;
    }
    const { maxConcurrent, maxQueue } = this.options;
    return { name: this.name, maxConcurrent, maxQueue, active, queued, partitions };
  }
}
