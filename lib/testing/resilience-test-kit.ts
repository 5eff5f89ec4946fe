import { isIP } from 'node:net';
import type { INestApplicationContext } from '@nestjs/common';
import type { RateLimitState } from '../core/rate-limit/rate-limit.state.js';
import { MAX_TIMER_MS } from '../core/validation/options.validator.js';
import { clientAddressKey } from '../nest/request/client-address.js';
import type { FallbackEvent, ResilienceEvent } from '../core/events/resilience-event.interface.js';
import { ResilienceEvents } from '../core/events/resilience-events.js';
import { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import { PipelineFactory } from '../nest/pipeline/pipeline.factory.js';
import { TestingPipelineFactory } from './testing-pipeline.factory.js';

/** What one call did, as `ResilienceTestKit.trace` saw it. */
export interface CallTrace<T> {
  /** What the call answered, when it resolved. */
  readonly value?: T;
  /** What the call rejected with, when it failed. */
  readonly error?: unknown;
  /** Whether it resolved. */
  readonly succeeded: boolean;
  /** Attempts the call made: 1 plus its retries. */
  readonly attempts: number;
  /** The fallback that answered (its policy name is the decorated `Class.method`), if one did. */
  readonly fallback: FallbackEvent | undefined;
  /** Every event emitted while the call ran. */
  readonly events: readonly ResilienceEvent[];
}

/**
 * Controls and assertions for users' tests, on a Nest application (or testing module) that imports
 * `ResilienceModule`: `ResilienceTestKit.from(moduleRef)`.
 */
export class ResilienceTestKit {
  private readonly filled = new Map<string, number>();

  constructor(
    /** The application's registry: breakers, bulkheads, rate limits, chaos. */
    readonly registry: ResilienceRegistry,
    /** The application's event stream. */
    readonly events: ResilienceEvents,
    private readonly factory: PipelineFactory,
  ) {}

  /** The kit of an application or testing module. */
  static from(app: INestApplicationContext): ResilienceTestKit {
    return new ResilienceTestKit(
      app.get(ResilienceRegistry, { strict: false }),
      app.get(ResilienceEvents, { strict: false }),
      app.get(PipelineFactory, { strict: false }),
    );
  }

  /** Lets every call straight through the policies, to test business logic alone (needs `prepare`). */
  disablePolicies(): void {
    this.policySwitch().on = false;
  }

  /** Turns the policies back on. Needs `ResilienceTesting.prepare`. */
  enablePolicies(): void {
    this.policySwitch().on = true;
  }

  /** Opens the breaker `name` until `forceClose` or `resetCircuitBreaker`: calls fail fast (`BrokenCircuitError`). */
  forceOpen(name: string): void {
    this.registry.circuitBreakers.forceOpen(name);
  }

  /** Closes the breaker `name` and forgets its window. */
  forceClose(name: string): void {
    this.registry.circuitBreakers.forceClose(name);
  }

  /** Closes the breaker `name`, forgetting its window and grown open duration. */
  resetCircuitBreaker(name: string): void {
    this.registry.circuitBreakers.reset(name);
  }

  /** Takes every free slot of the bulkhead `name` (partition `key`): the next calls queue or are rejected. */
  fillBulkhead(name: string, key?: string): void {
    const taken = this.registry.bulkheads.get(name).occupy(key);
    const slot = `${name}\u0000${key ?? ''}`;
    this.filled.set(slot, (this.filled.get(slot) ?? 0) + taken);
  }

  /** Gives back the slots `fillBulkhead` took (queued calls start). */
  drainBulkhead(name: string, key?: string): void {
    const slot = `${name}\u0000${key ?? ''}`;
    this.registry.bulkheads.get(name).releaseSlots(this.filled.get(slot) ?? 0, key);
    this.filled.delete(slot);
  }

  /**
   * Spends every token of the rate limit `name`: the next call is refused with `RateLimitExceededError` (HTTP 429,
   * `Retry-After` as a drained bucket would say). Without `key`, for every caller: a limit keyed per client (the
   * handlers' default `'ip'`, or a key function) refuses every key until its next token would be back, whatever
   * address the test client has; a `'global'` limit spends its one bucket. With `key`, only that bucket: a client
   * address (any form: `::ffff:127.0.0.1` is `127.0.0.1`) or what the limit's key function returns.
   */
  async exhaustRateLimit(name: string, key?: string): Promise<void> {
    const limit = this.registry.rateLimits.get(name);
    const keyOption = limit.options.key;
    if (key === undefined && keyOption !== 'global') {
      const { capacity, refillPerMs } = limit.rule;
      // A limit computed per request has no fixed rate: refused until resetRateLimit.
      const forMs = Number.isNaN(refillPerMs) ? MAX_TIMER_MS : limit.options.cost / refillPerMs;
      limit.exhaust(Number.isNaN(capacity) ? MAX_TIMER_MS : forMs);
      return;
    }
    const bucket = this.bucketKey(limit, key);
    for (let spent = 0; spent <= limit.capacity; spent++) {
      if (!(await limit.consume(bucket, 0)).allowed) return;
    }
  }

  /**
   * Refills the bucket of `key` of the rate limit `name` (without `key`: ends `exhaustRateLimit(name)` and refills
   * the `'global'` bucket); throws when the store cannot forget a bucket.
   */
  async resetRateLimit(name: string, key?: string): Promise<void> {
    const limit = this.registry.rateLimits.get(name);
    if (key === undefined) limit.resetExhaustion();
    if (!(await limit.reset(this.bucketKey(limit, key)))) {
      throw new Error(`The rate-limit store of "${name}" cannot reset a bucket (it has no delete method)`);
    }
  }

  /** The bucket a key names: a client address as the `'ip'` key makes it, anything else as given. */
  private bucketKey(limit: RateLimitState, key: string | undefined): string {
    if (key === undefined) return 'global';
    const perAddress = limit.options.key === undefined || limit.options.key === 'ip';
    return perAddress && isIP(key) !== 0 ? clientAddressKey(key, limit.options.ipv6Prefix) : key;
  }

  /**
   * Runs one call and reports what the policies did: attempts, the fallback that answered, its events. Never
   * rejects: the call's error is in `error`. Run calls one at a time: the events of concurrent calls would mix.
   */
  async trace<T>(call: () => Promise<T>): Promise<CallTrace<T>> {
    const events: ResilienceEvent[] = [];
    const stop = this.events.subscribe((event) => events.push(event));
    let outcome: { value?: T; error?: unknown; succeeded: boolean };
    try {
      outcome = { value: await call(), succeeded: true };
    } catch (error) {
      outcome = { error, succeeded: false };
    } finally {
      stop();
    }
    return {
      ...outcome,
      attempts: 1 + events.filter((event) => event.type === 'retry').length,
      fallback: events.find((event): event is FallbackEvent => event.type === 'fallback'),
      events,
    };
  }

  private policySwitch() {
    if (!(this.factory instanceof TestingPipelineFactory)) {
      throw new Error(
        'Switching policies needs a prepared testing module: ResilienceTesting.prepare(Test.createTestingModule(...))',
      );
    }
    return this.factory.policySwitch;
  }
}
