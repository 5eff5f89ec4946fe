import { BulkheadRejectedError } from '../errors/bulkhead-rejected.error.js';
import type { ResilienceEvents } from '../events/resilience-events.js';
import type { Invocation } from '../pipeline/invocation.js';
import type { BulkheadOptions } from './bulkhead.options.js';
import { Compartment } from './compartment.js';
import type { ConcurrencyLimit } from './limits/concurrency-limit.interface.js';
import { AimdLimit } from './limits/aimd.limit.js';
import { Gradient2Limit } from './limits/gradient2.limit.js';
import { VegasLimit } from './limits/vegas.limit.js';
import { keyFrom } from '../validation/key-data.js';

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
  /** The current limit: `maxConcurrent`, or the adaptive limit. */
  readonly limit: number;
  /** Calls rejected since the application started. */
  readonly rejected: number;
}

const SINGLE = '';

/**
 * One named bulkhead, shared by every method naming it: its compartments, created per partition key on demand and
 * dropped as soon as they are idle, so the number kept is bounded by the calls in flight.
 */
export class BulkheadState {
  private readonly compartments = new Map<string, Compartment>();
  /** The adaptive limit, for `adaptive` bulkheads. */
  readonly adaptive: ConcurrencyLimit | undefined;
  private rejections = 0;

  constructor(
    readonly name: string,
    readonly options: BulkheadOptions,
    private readonly events: ResilienceEvents,
  ) {
    const { adaptive } = options;
    if (adaptive !== undefined) {
      const bounds = {
        initialLimit: adaptive.initialLimit ?? 20,
        minLimit: adaptive.minLimit ?? 1,
        maxLimit: adaptive.maxLimit ?? 200,
      };
      const Algorithm = { gradient2: Gradient2Limit, vegas: VegasLimit, aimd: AimdLimit }[adaptive.algorithm];
      this.adaptive = new Algorithm(bounds);
    }
  }

  /**
   * Feeds a completed call to the adaptive limit and reports a change of its whole part.
   * @internal
   */
  sample(rtt: number, inflight: number, dropped: boolean, now = performance.now()): void {
    const limit = this.adaptive!;
    const before = limit.limit;
    limit.onSample(rtt, inflight, dropped, now);
    // Most samples leave the limit as it was (the windowed algorithms move it once per window).
    if (limit.limit === before) return;
    const previous = Math.floor(before);
    const current = Math.floor(limit.limit);
    if (current !== previous && this.events.observed) {
      this.events.emit({ type: 'concurrency-limit', policy: this.name, previous, limit: current });
    }
  }

  /** The partition key of a call; throws an `InvalidKeyError` when the key function returns no key. */
  keyOf(invocation: Invocation): string {
    const { key } = this.options;
    if (key === undefined) return SINGLE;
    return keyFrom((key as (...args: unknown[]) => unknown)(...invocation.args), this.name, 'bulkhead-key');
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
  reject(reason: 'full' | 'wait' | 'limit', invocation: Invocation): BulkheadRejectedError {
    this.rejections++;
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
    const limit = this.adaptive === undefined ? maxConcurrent : Math.floor(this.adaptive.limit);
    return { name: this.name, maxConcurrent, maxQueue, active, queued, partitions, limit, rejected: this.rejections };
  }
}
