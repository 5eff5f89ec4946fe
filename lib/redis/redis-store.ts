import { Redis, type Cluster } from 'ioredis';
import type { ResilienceEvents } from '../core/events/resilience-events.js';
import { MemoryRateLimitStore } from '../core/rate-limit/memory-rate-limit.store.js';
import type {
  RateLimitDecision,
  RateLimitStore,
  TokenBucketRule,
} from '../core/rate-limit/rate-limit-store.interface.js';
import { OptionsValidator } from '../core/validation/options-validator.js';
import { withoutUndefined } from '../core/validation/without-undefined.js';
import { RedisCircuitCoordinator } from './redis-circuit-coordinator.js';
import {
  DEFAULT_REDIS_STORE_OPTIONS,
  type RedisStoreOptions,
  type ResolvedRedisStoreOptions,
} from './redis-store-options.js';
import { defineScripts, type ScriptedClient } from './scripted-client.js';
import { sendWhenReady } from './send-when-ready.js';

/**
 * Rate-limit buckets in Redis, shared by every replica: each check is one atomic script call (by SHA), with the same
 * token-bucket rule as the memory store and Redis server time. When Redis is down or slow, a check waits at most
 * `commandTimeout`, then is decided as `onStoreError` says; after an error Redis is left alone for `retryInterval`,
 * then one call tries it again, and a `rate-limit-store-recovered` event reports its return.
 *
 * Also coordinates circuit breakers that set `coordination: 'redis'` (see {@link RedisCircuitCoordinator}).
 */
export class RedisStore implements RateLimitStore {
  readonly coordinator: RedisCircuitCoordinator;
  private readonly client: ScriptedClient;
  private readonly ownsClient: boolean;
  private readonly options: ResolvedRedisStoreOptions;
  private readonly local: MemoryRateLimitStore;
  private events: ResilienceEvents | undefined;
  /** Epoch ms of the first error of the current outage; undefined while Redis answers. */
  private downSince: number | undefined;
  /** While down: when one call may try Redis again. */
  private retryAt = 0;
  /** While down: the last error Redis gave, reported with the decisions made without asking it. */
  private lastError: unknown;

  constructor(options: RedisStoreOptions) {
    this.options = validate(options);
    this.ownsClient = options.client === undefined;
    const client: Redis | Cluster =
      options.client ??
      new Redis(options.url!, {
        // A request must never wait for a reconnect: commands fail at once while disconnected.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: this.options.commandTimeout,
        enableAutoPipelining: true,
        ...options.redisOptions,
      });
    // Connection errors surface as command errors (handled per call); without a listener ioredis logs each one.
    if (this.ownsClient) client.on('error', () => undefined);
    this.client = defineScripts(client);
    this.local = new MemoryRateLimitStore();
    this.coordinator = new RedisCircuitCoordinator(this.client, this.options);
  }

  /** The ioredis client the store uses. */
  get redis(): Redis | Cluster {
    return this.client;
  }

  attach(events: ResilienceEvents): void {
    this.events = events;
    this.coordinator.attach(events);
  }

  consume(key: string, rule: TokenBucketRule, cost: number, maxWaitMs: number): Promise<RateLimitDecision> {
    if (this.downSince !== undefined) {
      const now = Date.now();
      if (now < this.retryAt) return Promise.resolve(this.decideWithout(key, rule, cost, maxWaitMs, this.lastError));
      // This call tries Redis; the others keep deciding locally until it answers.
      this.retryAt = now + this.options.retryInterval;
    }
    return this.ask(key, rule, cost, maxWaitMs);
  }

  close(): Promise<void> {
    this.coordinator.close();
    if (this.ownsClient) this.client.disconnect();
    return Promise.resolve();
  }

  private async ask(key: string, rule: TokenBucketRule, cost: number, maxWaitMs: number): Promise<RateLimitDecision> {
    let reply: [allowed: number, tokens: string];
    try {
      reply = await sendWhenReady(
        this.client,
        () =>
          this.client.nestResilienceTokenBucket(this.options.prefix + key, rule.capacity, rule.refillPerMs, cost, maxWaitMs),
        this.options.commandTimeout,
      );
    } catch (error) {
      const now = Date.now();
      this.downSince ??= now;
      this.retryAt = now + this.options.retryInterval;
      this.lastError = error;
      return this.decideWithout(key, rule, cost, maxWaitMs, error);
    }
    if (this.downSince !== undefined) {
      const downtimeMs = Date.now() - this.downSince;
      this.downSince = undefined;
      this.lastError = undefined;
      this.events?.emit({ type: 'rate-limit-store-recovered', downtimeMs });
    }
    return decisionOf(reply[0] === 1, Number(reply[1]), rule, cost);
  }

  /** The decision `onStoreError` asks for while Redis cannot answer. */
  private decideWithout(
    key: string,
    rule: TokenBucketRule,
    cost: number,
    maxWaitMs: number,
    error: unknown,
  ): RateLimitDecision {
    const mode = this.options.onStoreError;
    if (this.events?.observed) {
      this.events.emit({ type: 'rate-limit-store-error', key, decision: mode, error });
    }
    if (mode === 'local') {
      const { replicas } = this.options;
      const share = { capacity: rule.capacity / replicas, refillPerMs: rule.refillPerMs / replicas };
      return this.local.consume(key, share, cost, maxWaitMs);
    }
    if (mode === 'allow') {
      return { allowed: true, remaining: Math.max(0, Math.floor(rule.capacity - cost)), waitMs: 0, retryAfterMs: 0, resetMs: 0 };
    }
    const retryAfterMs = Math.max(1, this.retryAt - Date.now());
    return { allowed: false, remaining: 0, waitMs: 0, retryAfterMs, resetMs: retryAfterMs };
  }
}

/**
 * The decision the script's answer means, by the rule of `spendTokens`: `tokens` is what is left after an allowed
 * call (below zero when it reserved tokens to wait for), or what was available for a refused one.
 */
function decisionOf(allowed: boolean, tokens: number, rule: TokenBucketRule, cost: number): RateLimitDecision {
  const { capacity, refillPerMs } = rule;
  return {
    allowed,
    remaining: Math.max(0, Math.floor(tokens)),
    waitMs: allowed && tokens < 0 ? -tokens / refillPerMs : 0,
    retryAfterMs: allowed ? 0 : (cost - tokens) / refillPerMs,
    resetMs: (capacity - tokens) / refillPerMs,
  };
}

function validate(options: RedisStoreOptions): ResolvedRedisStoreOptions {
  const validator = new OptionsValidator('store', 'RedisStore', 'new RedisStore(...)');
  if ((options.client === undefined) === (options.url === undefined)) {
    validator.fail('client', options.client, 'give exactly one of "client" (an ioredis client) or "url"');
  }
  if (options.url !== undefined && typeof options.url !== 'string') validator.fail('url', options.url, 'must be a string');
  const resolved = { ...DEFAULT_REDIS_STORE_OPTIONS, ...withoutUndefined(options) };
  if (typeof resolved.prefix !== 'string') validator.fail('prefix', resolved.prefix, 'must be a string');
  validator.positiveDuration('commandTimeout', resolved.commandTimeout);
  validator.oneOf('onStoreError', resolved.onStoreError, ['allow', 'deny', 'local']);
  validator.integerAtLeast('replicas', resolved.replicas, 1);
  validator.nonNegativeDuration('retryInterval', resolved.retryInterval);
  return resolved;
}
