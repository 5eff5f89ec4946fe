import { ResilienceConfigError } from '../errors/resilience-config.error.js';
import { MAX_RATE_LIMIT } from '../validation/size-maxima.js';
import type { RateLimitOptions } from './rate-limit.options.js';
import { MemoryRateLimitStore } from './memory-rate-limit.store.js';
import type {
  RateLimitDecision,
  RateLimitRequest,
  RateLimitStore,
  TokenBucketRule,
} from './rate-limit-store.interface.js';

/** A rate limit as the registry lists it. */
export interface RateLimitSnapshot {
  readonly name: string;
  /** Tokens added per `interval` ms; `NaN` when computed per request. */
  readonly limit: number;
  /** `NaN` when computed per request. */
  readonly interval: number;
  /** Bucket capacity; `NaN` when computed per request. */
  readonly capacity: number;
  /** Calls and requests allowed since the application started (a waiting call counts once its wait is granted). */
  readonly allowed: number;
  /** Calls and requests refused since the application started. */
  readonly refused: number;
}

/** One named limit, shared by every method naming it: its bucket rule and the store holding the buckets. */
export class RateLimitState {
  /** The bucket rule; for a limit whose rate is computed per request, see {@link ruleFor}. */
  readonly rule: TokenBucketRule;
  /** Bucket capacity, as reported in `RateLimit-Limit` (`NaN` when computed per request). */
  readonly capacity: number;
  /** The same as the header's text, computed once. */
  readonly capacityHeader: string;

  /** The store when it is the memory store itself (not a subclass): it can admit a call without a decision. */
  private readonly memory: MemoryRateLimitStore | undefined;

  constructor(
    readonly name: string,
    readonly options: RateLimitOptions,
    private readonly store: RateLimitStore,
  ) {
    this.memory = store.constructor === MemoryRateLimitStore ? store : undefined;
    const { limit, interval, burst, blockDuration } = options;
    const fixed = typeof limit === 'number' && typeof interval === 'number';
    this.capacity = burst ?? (typeof limit === 'number' ? limit : Number.NaN);
    this.capacityHeader = String(this.capacity);
    this.blockMs = blockDuration;
    this.rule = fixed
      ? { capacity: this.capacity, refillPerMs: limit / interval, blockMs: this.blockMs }
      : { capacity: Number.NaN, refillPerMs: Number.NaN, blockMs: this.blockMs };
  }

  private readonly blockMs: number;
  private allowed = 0;
  private refused = 0;
  /** Set by the testing kit's `exhaustRateLimit` without a key: every key is refused until then (epoch ms). */
  private exhaustedUntil = 0;

  /** The last key and its store key: a global limit (one key) builds its store key once, not per call. */
  private lastKey = '';
  private lastStoreKey = '';
  /** The last per-request rule, reused while the functions return the same values. */
  private lastRule: TokenBucketRule | undefined;
  private lastLimit = Number.NaN;
  private lastInterval = Number.NaN;

  /** Spends this limit's cost from the bucket of `key` (keys are prefixed by the limit's name). */
  consume(key: string, maxWaitMs: number, rule = this.rule): RateLimitDecision | Promise<RateLimitDecision> {
    if (this.exhaustedUntil !== 0) {
      const exhausted = this.exhaustedDecision(rule);
      if (exhausted !== undefined) return this.tally(exhausted);
    }
    const decision = this.store.consume(this.storeKey(key), rule, this.options.cost, maxWaitMs);
    // A shared store answers asynchronously: one more `then` beside a network round trip.
    if (decision instanceof Promise) return decision.then(this.tally);
    return this.tally(decision);
  }

  /**
   * {@link consume} for a caller that reads only `allowed`, `waitMs` and `retryAfterMs` (a provider method's call,
   * which sends no headers): a call the memory store admits at once gets {@link ADMITTED_AT_ONCE}, shared, with no
   * decision made for it. Anything else (a wait, a refusal, another store, an exhausted limit, a `consume` replaced
   * as the testing kit's switches do) is {@link consume}'s full decision. `monotonic`: see
   * `MemoryRateLimitStore.take`.
   */
  spend(key: string, maxWaitMs: number, monotonic?: number): RateLimitDecision | Promise<RateLimitDecision> {
    const { memory } = this;
    if (
      memory !== undefined &&
      this.exhaustedUntil === 0 &&
      this.consume === RateLimitState.prototype.consume &&
      memory.take(this.storeKey(key), this.rule, this.options.cost, monotonic)
    ) {
      this.allowed++;
      return ADMITTED_AT_ONCE;
    }
    return this.consume(key, maxWaitMs);
  }

  /**
   * Spends from several limits at once (`keys[i]`, `rules[i]` and `maxWaitMs[i]` for `limits[i]`, one store): every
   * limit spends only when all admit, atomically when the store has `consumeAll`. The decisions are in the order of
   * `limits`.
   */
  static consumeAll(
    limits: readonly RateLimitState[],
    keys: readonly string[],
    rules: readonly TokenBucketRule[],
    maxWaitMs: number | readonly number[],
  ): readonly RateLimitDecision[] | Promise<readonly RateLimitDecision[]> {
    if (limits[0].bypassed()) return limits.map((limit) => ({ ...ADMITTED, remaining: limit.capacity }));
    const exhausted = limits.map((limit, index) => limit.exhaustedDecision(rules[index]));
    if (exhausted.some((decision) => decision !== undefined)) {
      return RateLimitState.tallyAll(
        limits,
        exhausted.map((decision) => decision ?? ADMITTED),
      );
    }
    const { store } = limits[0];
    const requests: RateLimitRequest[] = limits.map((limit, index) => ({
      key: `${limit.name}:${keys[index]}`,
      rule: rules[index],
      cost: limit.options.cost,
      maxWaitMs: typeof maxWaitMs === 'number' ? maxWaitMs : maxWaitMs[index],
    }));
    const decisions = store.consumeAll === undefined ? consumeInTurn(store, requests) : store.consumeAll(requests);
    if (decisions instanceof Promise) return decisions.then((settled) => RateLimitState.tallyAll(limits, settled));
    return RateLimitState.tallyAll(limits, decisions);
  }

  /**
   * The rule of a limit whose `limit` or `interval` is computed per request: validates what the functions returned
   * (a mistake fails the request with a `ResilienceConfigError` naming the option and value) and reuses the last
   * rule while they return the same values.
   */
  ruleFor(limit: number, interval: number): TokenBucketRule {
    if (limit === this.lastLimit && interval === this.lastInterval) return this.lastRule!;
    const capacity = this.options.burst ?? limit;
    if (typeof limit !== 'number' || !Number.isFinite(limit) || limit <= 0) this.refuse('limit', limit);
    if (limit > MAX_RATE_LIMIT.max)
      this.refuse('limit', limit, ` (above ${MAX_RATE_LIMIT.max}: ${MAX_RATE_LIMIT.why})`);
    if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0) this.refuse('interval', interval);
    if (this.options.cost > capacity) this.refuse('limit', limit, ` (below the cost ${this.options.cost})`);
    this.lastLimit = limit;
    this.lastInterval = interval;
    return (this.lastRule = { capacity, refillPerMs: limit / interval, blockMs: this.blockMs });
  }

  /** Forgets the bucket of `key` in the store, when the store can (`RateLimitStore.delete`); false when it cannot. */
  async reset(key: string): Promise<boolean> {
    if (this.store.delete === undefined) return false;
    await this.store.delete(this.storeKey(key));
    return true;
  }

  /**
   * Refuses every key for `forMs` ms (the testing kit's `exhaustRateLimit` without a key: whatever address a test
   * client has); `resetExhaustion` ends it.
   */
  exhaust(forMs: number): void {
    this.exhaustedUntil = Date.now() + forMs;
  }

  /** Ends {@link exhaust}. */
  resetExhaustion(): void {
    this.exhaustedUntil = 0;
  }

  /** @internal True while the testing kit lets every request through (its switched limiters override it). */
  bypassed(): boolean {
    return false;
  }

  /** The limit's rule; the buckets themselves live in the store. */
  snapshot(): RateLimitSnapshot {
    const { name, capacity, allowed, refused } = this;
    const { limit, interval } = this.options;
    return {
      name,
      limit: typeof limit === 'number' ? limit : Number.NaN,
      interval: typeof interval === 'number' ? interval : Number.NaN,
      capacity,
      allowed,
      refused,
    };
  }

  private storeKey(key: string): string {
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.lastStoreKey = `${this.name}:${key}`;
    }
    return this.lastStoreKey;
  }

  /** The refusal while {@link exhaust} lasts, else undefined. */
  private exhaustedDecision(rule: TokenBucketRule): RateLimitDecision | undefined {
    const left = this.exhaustedUntil - Date.now();
    if (left <= 0) {
      this.exhaustedUntil = 0;
      return undefined;
    }
    return { allowed: false, remaining: 0, waitMs: 0, retryAfterMs: left, resetMs: rule.capacity / rule.refillPerMs };
  }

  /** Counts a decision (two integers: the metrics read them on scrape, nothing is done per call). */
  private readonly tally = (decision: RateLimitDecision): RateLimitDecision => {
    if (decision.allowed) this.allowed++;
    else this.refused++;
    return decision;
  };

  /** Counts a request checked against several limits: allowed by each, or refused by those that refused it. */
  private static tallyAll(
    limits: readonly RateLimitState[],
    decisions: readonly RateLimitDecision[],
  ): readonly RateLimitDecision[] {
    const admitted = decisions.every((decision) => decision.allowed);
    // Through `tally`, bound to the limit itself (a testing kit's switched limiter inherits from it).
    decisions.forEach((decision, index) => {
      if (admitted || !decision.allowed) limits[index].tally(decision);
    });
    return decisions;
  }

  private refuse(option: 'limit' | 'interval', value: unknown, why = ''): never {
    throw new ResilienceConfigError(
      `Rate limit "${this.name}": the "${option}" function returned ${String(value)}${why}; it must return a ` +
        `finite number greater than 0${option === 'limit' ? ' and at least the cost' : ' (milliseconds)'}`,
      this.name,
    );
  }
}

/** What a limit that did not refuse contributes when another limit refuses a request. */
const ADMITTED: RateLimitDecision = Object.freeze({
  allowed: true,
  remaining: 0,
  waitMs: 0,
  retryAfterMs: 0,
  resetMs: 0,
});

/**
 * What {@link RateLimitState.spend} answers for a call admitted at once: `remaining` and `resetMs` are not computed
 * (NaN), since its callers send no headers.
 */
const ADMITTED_AT_ONCE: RateLimitDecision = Object.freeze({
  allowed: true,
  remaining: Number.NaN,
  waitMs: 0,
  retryAfterMs: 0,
  resetMs: Number.NaN,
});

/**
 * A store without `consumeAll`: the limits one after the other, stopping at the first refusal (the limits before it
 * have spent: such a store cannot do better without an atomic operation).
 */
function consumeInTurn(
  store: RateLimitStore,
  requests: readonly RateLimitRequest[],
): RateLimitDecision[] | Promise<RateLimitDecision[]> {
  const decisions: RateLimitDecision[] = [];
  const next = (index: number): RateLimitDecision[] | Promise<RateLimitDecision[]> => {
    for (let at = index; at < requests.length; at++) {
      const { key, rule, cost, maxWaitMs } = requests[at];
      const decision = store.consume(key, rule, cost, maxWaitMs);
      if (decision instanceof Promise) {
        return decision.then((settled) => {
          decisions.push(settled);
          return settled.allowed ? next(at + 1) : padded(decisions, requests.length);
        });
      }
      decisions.push(decision);
      if (!decision.allowed) return padded(decisions, requests.length);
    }
    return decisions;
  };
  return next(0);
}

/** The decisions of limits never asked (after a refusal) count as admitting. */
function padded(decisions: RateLimitDecision[], length: number): RateLimitDecision[] {
  while (decisions.length < length) decisions.push(ADMITTED);
  return decisions;
}
