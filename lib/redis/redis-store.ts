import { Redis, type Cluster } from 'ioredis';
import type { ResilienceEvents } from '../core/events/resilience-events.js';
import { MemoryRateLimitStore } from '../core/rate-limit/memory-rate-limit.store.js';
import type {
  RateLimitDecision,
  RateLimitRequest,
  RateLimitStore,
  TokenBucketRule,
} from '../core/rate-limit/rate-limit-store.interface.js';
import { Compensations } from './compensations.js';
import { RedisCircuitCoordinator } from './redis-circuit.coordinator.js';
import { RedisIdempotencyStore } from './redis-idempotency.store.js';
import {
  validateRedisStoreOptions,
  type RedisStoreOptions,
  type ResolvedRedisStoreOptions,
} from './redis-store.options.js';
import { defineScripts, type ScriptedClient, type TokenBucketReply } from './scripted-client.js';
import { sendWhenReady } from './send-when-ready.js';
import { WriteBatcher } from './batch-writes.js';
import { CheckBatch } from './batched-checks.js';

/**
 * Rate-limit buckets in Redis, shared by every replica: each check is decided in an atomic script call (by SHA; the
 * single-bucket checks of one tick share one call), with the same token-bucket rule as the memory store and Redis
 * server time. When Redis is down or slow, a check waits at most
 * `commandTimeout`, then is decided as `onStoreError` says; after an error Redis is left alone for `retryInterval`,
 * then one call tries it again, and a `rate-limit-store-recovered` event reports its return.
 *
 * Also coordinates circuit breakers that set `coordination: 'redis'` (see {@link RedisCircuitCoordinator}).
 */
export class RedisStore implements RateLimitStore {
  readonly coordinator: RedisCircuitCoordinator;
  /** `@Idempotent`'s records in this Redis (used by `ResilienceModule` when this store is its `store`). */
  readonly idempotency: RedisIdempotencyStore;
  /** @internal Undoes writes that timed out (idempotency acquires, dead letters); stopped when released. */
  readonly compensations = new Compensations();
  /** Replaced by a new connection when an app attaches after the last one released the store (see {@link close}). */
  private client: ScriptedClient;
  /** Makes the store's own client from `url`; undefined when the application gave `client`. */
  private readonly connect: (() => ScriptedClient) | undefined;
  private readonly ownsClient: boolean;
  /** @internal The validated options (prefix, command timeout), read by the stores built on this one. */
  readonly options: ResolvedRedisStoreOptions;
  private readonly local: MemoryRateLimitStore;
  /**
   * The event streams of the applications using the store now, one entry per `attach` (the same app may appear
   * twice if attached twice). A store error concerns every app sharing the store, so each is told.
   */
  private readonly attached: ResilienceEvents[] = [];
  /** Epoch ms of the first error of the current outage; undefined while Redis answers. */
  private downSince: number | undefined;
  /** While down: when one call may try Redis again. */
  private retryAt = 0;
  /** True after the last app released the store's own connection (see {@link close}); the next use reconnects. */
  private released = false;
  /** While down: the last error Redis gave, reported with the decisions made without asking it. */
  private lastError: unknown;
  /**
   * Once Redis answers again, the writes to undo go now rather than at their next backoff (up to 5 s later): a
   * lease an acquire took just before the connection broke would refuse the client's retries until then.
   */
  private readonly compensateNow = (): void => this.compensations.retryNow();

  constructor(options: RedisStoreOptions) {
    this.options = validateRedisStoreOptions(options);
    this.ownsClient = options.client === undefined;
    this.connect = this.ownsClient
      ? () => {
          const own = new Redis(options.url!, {
            // A request must never wait for a reconnect: commands fail at once while disconnected.
            enableOfflineQueue: false,
            maxRetriesPerRequest: 0,
            commandTimeout: this.options.commandTimeout,
            // Off: concurrent checks share one script call through CheckBatch instead (several buckets at once
            // through WriteBatcher's one socket write), which never wait for the previous batch's answers and cost
            // less per check (see batched-checks.ts, batch-writes.ts).
            enableAutoPipelining: false,
            // A Redis restarting with persistence loads its data before it answers: ioredis would then wait the
            // load's estimated time (at least 1 s, up to 10 s) before checking again, every request answered 503
            // meanwhile though Redis may be ready long before. Checked every 100 ms instead.
            maxLoadingRetryTime: LOADING_RECHECK_MS,
            ...options.redisOptions,
          });
          // Connection errors surface as command errors (handled per call); without a listener ioredis logs each one.
          own.on('error', () => undefined);
          own.on('ready', this.compensateNow);
          return defineScripts(own);
        }
      : undefined;
    this.client = this.connect ? this.connect() : defineScripts(options.client!);
    if (!this.ownsClient) this.client.on('ready', this.compensateNow);
    this.local = new MemoryRateLimitStore();
    this.checks = new CheckBatch(
      {
        sendOne: (key, rule, cost, maxWaitMs) => this.sendOne(key, rule, cost, maxWaitMs),
        sendEach: (keysThenArgs) =>
          sendWhenReady(
            this.client,
            () => this.client.nestResilienceTokenBucketEach(...(keysThenArgs as [number, ...(string | number)[]])),
            this.options.commandTimeout,
          ),
        decide: decisionOf,
        answered: () => {
          if (this.downSince !== undefined) this.recovered();
        },
        failed: (key, rule, cost, maxWaitMs, error) => this.failed([{ key, rule, cost, maxWaitMs }], error)[0],
      },
      this.options.prefix,
    );
    this.coordinator = new RedisCircuitCoordinator(() => this.client, this.options);
    this.idempotency = new RedisIdempotencyStore(
      () => {
        this.reconnectIfReleased();
        return this.client;
      },
      this.options,
      this.compensations,
    );
  }

  /** The ioredis client the store uses. */
  get redis(): Redis | Cluster {
    return this.client;
  }

  /**
   * Called by `ResilienceModule` when an application starts using the store. A store whose connections were released
   * (every app that used it has shut down) connects again: the module object, and so this store, is often reused to
   * build many applications (e2e suites, hybrid apps).
   */
  attach(events: ResilienceEvents): void {
    this.attached.push(events);
    this.coordinator.attach(events);
    this.reconnectIfReleased();
  }

  /**
   * Called by `ResilienceModule` when an application shuts down: that application stops using the store. When no
   * application uses it any more, the connections the store opened itself (the client made from `url`, the breaker
   * subscriber) are closed, so nothing keeps the process alive; a client given as `client` is never closed. The
   * store stays usable: the next {@link attach} or call connects again.
   */
  close(): Promise<void> {
    return this.detach(this.attached[0]);
  }

  /** {@link close} for the application whose event stream is `events` (exact when several apps share the store). */
  detach(events: ResilienceEvents | undefined): Promise<void> {
    const index = events === undefined ? -1 : this.attached.indexOf(events);
    if (index >= 0) this.attached.splice(index, 1);
    this.coordinator.detach(events);
    if (this.attached.length > 0) return Promise.resolve();
    this.coordinator.close();
    this.compensations.close();
    if (!this.ownsClient) this.client.off('ready', this.compensateNow);
    if (this.ownsClient) {
      this.client.disconnect();
      this.released = true;
    }
    return Promise.resolve();
  }

  /**
   * Connects again after the last app released the store: a new client, because the released one is still
   * 'ready' for a while after `disconnect()` and refuses commands until it has ended. Not awaited: a command waits
   * for the connection within its command timeout (sendWhenReady).
   */
  private reconnectIfReleased(): void {
    if (!this.released || this.connect === undefined) return;
    this.released = false;
    this.client = this.connect();
  }

  /**
   * One bucket: what {@link consumeAll} does for one request, without its arrays (the usual check, one per request
   * on every replica). The checks of one tick go to Redis in one script call ({@link CheckBatch}).
   */
  consume(key: string, rule: TokenBucketRule, cost: number, maxWaitMs: number): Promise<RateLimitDecision> {
    if (this.released) this.reconnectIfReleased();
    if (this.downSince !== undefined && !this.mayTryRedis()) {
      return Promise.resolve(this.decideWithout([{ key, rule, cost, maxWaitMs }], this.lastError)[0]);
    }
    if (!this.client.isCluster) return this.checks.add(key, rule, cost, maxWaitMs);
    return this.sendOne(key, rule, cost, maxWaitMs).then(
      (reply) => {
        if (this.downSince !== undefined) this.recovered();
        return decisionOf(reply, 0, rule, cost);
      },
      (error: unknown) => this.failed([{ key, rule, cost, maxWaitMs }], error)[0],
    );
  }

  /** The single-bucket checks of the current tick, sent as one script call. */
  private readonly checks: CheckBatch;

  /**
   * Spends from several buckets only when all admit, in one atomic script call. On Redis Cluster the keys of
   * different limits may live on different nodes, so each bucket is asked in turn and, when one refuses, the tokens
   * the others spent are given back: no token is lost, but for that moment a concurrent request may see them spent.
   */
  consumeAll(requests: readonly RateLimitRequest[]): Promise<readonly RateLimitDecision[]> {
    if (this.released) this.reconnectIfReleased();
    if (this.downSince !== undefined && !this.mayTryRedis()) {
      return Promise.resolve(this.decideWithout(requests, this.lastError));
    }
    return this.ask(requests);
  }

  /** Gathers the checks sent in one tick into one socket write. */
  private readonly writes = new WriteBatcher();

  /** While down: true for the one call that tries Redis again after `retryInterval` (the others decide locally). */
  private mayTryRedis(): boolean {
    const now = Date.now();
    if (now < this.retryAt) return false;
    this.retryAt = now + this.options.retryInterval;
    return true;
  }

  /**
   * Forgets the bucket `key` (in Redis, and the local fallback's): the next call finds it full. What the testing
   * kit's `resetRateLimit` calls; rejects when Redis does not answer within `commandTimeout`.
   */
  async delete(key: string): Promise<void> {
    if (this.released) this.reconnectIfReleased();
    this.local.delete(key);
    await sendWhenReady(this.client, () => this.client.del(this.options.prefix + key), this.options.commandTimeout);
  }

  private async ask(requests: readonly RateLimitRequest[]): Promise<readonly RateLimitDecision[]> {
    let decisions: readonly RateLimitDecision[];
    this.writes.batch(this.client);
    try {
      decisions =
        requests.length > 1 && this.client.isCluster ? await this.askInTurn(requests) : await this.script(requests);
    } catch (error) {
      return this.failed(requests, error);
    }
    if (this.downSince !== undefined) this.recovered();
    return decisions;
  }

  /** Redis did not answer: the outage starts (or goes on) and `requests` are decided as `onStoreError` says. */
  private failed(requests: readonly RateLimitRequest[], error: unknown): readonly RateLimitDecision[] {
    const now = Date.now();
    this.downSince ??= now;
    this.retryAt = now + this.options.retryInterval;
    this.lastError = error;
    return this.decideWithout(requests, error);
  }

  /** Redis answered after an outage: reported once to every attached application. */
  private recovered(): void {
    const downtimeMs = Date.now() - this.downSince!;
    this.downSince = undefined;
    this.lastError = undefined;
    for (const events of this.attached) events.emit({ type: 'rate-limit-store-recovered', downtimeMs });
  }

  /** One bucket's script call through sendWhenReady (client not ready, or without its own timeout). */
  private sendOne(key: string, rule: TokenBucketRule, cost: number, maxWaitMs: number): Promise<TokenBucketReply> {
    return sendWhenReady(this.client, () => this.callScript(key, rule, cost, maxWaitMs), this.options.commandTimeout);
  }

  /** The token-bucket script on one bucket, sent now. */
  private callScript(key: string, rule: TokenBucketRule, cost: number, maxWaitMs: number): Promise<TokenBucketReply> {
    return this.client.nestResilienceTokenBucket(
      this.options.prefix + key,
      rule.capacity,
      rule.refillPerMs,
      cost,
      maxWaitMs,
      rule.blockMs ?? 0,
    );
  }

  /** One call of the token-bucket script over `requests`' buckets, within `commandTimeout`. */
  private async script(requests: readonly RateLimitRequest[]): Promise<RateLimitDecision[]> {
    const { prefix, commandTimeout } = this.options;
    let reply: TokenBucketReply;
    if (requests.length === 1) {
      const { key, rule, cost, maxWaitMs } = requests[0];
      reply = await this.sendOne(key, rule, cost, maxWaitMs);
    } else {
      const keys = requests.map((request) => prefix + request.key);
      const args = requests.flatMap(({ rule, cost, maxWaitMs }) => [
        rule.capacity,
        rule.refillPerMs,
        cost,
        maxWaitMs,
        rule.blockMs ?? 0,
      ]);
      reply = await sendWhenReady(
        this.client,
        () => this.client.nestResilienceTokenBuckets(keys.length, ...keys, ...args),
        commandTimeout,
      );
    }
    return requests.map(({ rule, cost }, index) => decisionOf(reply, index, rule, cost));
  }

  /** Redis Cluster: each bucket in turn (each on its node), then the tokens given back if one refused. */
  private async askInTurn(requests: readonly RateLimitRequest[]): Promise<RateLimitDecision[]> {
    const decisions = await Promise.all(requests.map((request) => this.script([request]).then(first)));
    if (decisions.every((decision) => decision.allowed)) return decisions;
    const spent = requests.filter((_request, index) => decisions[index].allowed);
    // A give-back that fails leaves those tokens spent (they refill on their own): the refusal stands either way.
    await Promise.all(
      spent.map((request) => this.script([{ ...request, cost: -request.cost, maxWaitMs: 0 }]).catch(() => undefined)),
    );
    return decisions;
  }

  /** The decisions `onStoreError` asks for while Redis cannot answer. */
  private decideWithout(requests: readonly RateLimitRequest[], error: unknown): readonly RateLimitDecision[] {
    const mode = this.options.onStoreError;
    for (const events of this.attached) {
      if (!events.observed) continue;
      for (const { key } of requests) events.emit({ type: 'rate-limit-store-error', key, decision: mode, error });
    }
    if (mode === 'local') {
      const { replicas } = this.options;
      // Each replica's share of the bucket, but room for one call at least: with limit < replicas a share below one
      // call would refuse everything. The cluster may then admit up to one call per replica in a burst.
      return this.local.consumeAll(
        requests.map(({ key, rule, cost, maxWaitMs }) => ({
          key,
          rule: {
            capacity: Math.max(cost, rule.capacity / replicas),
            refillPerMs: rule.refillPerMs / replicas,
            blockMs: rule.blockMs,
          },
          cost,
          maxWaitMs,
        })),
      );
    }
    if (mode === 'allow') {
      return requests.map(({ rule, cost }) => ({
        allowed: true,
        remaining: Math.max(0, Math.floor(rule.capacity - cost)),
        waitMs: 0,
        retryAfterMs: 0,
        resetMs: 0,
      }));
    }
    const retryAfterMs = Math.max(1, this.retryAt - Date.now());
    return requests.map(() => ({ allowed: false, remaining: 0, waitMs: 0, retryAfterMs, resetMs: retryAfterMs }));
  }
}

const first = (decisions: readonly RateLimitDecision[]): RateLimitDecision => decisions[0];

/** How often the store's own client asks a Redis still loading its data whether it is ready (`maxLoadingRetryTime`). */
const LOADING_RECHECK_MS = 100;

/**
 * The decision the script's answer for bucket `index` means, by the rule of `spendTokens`: the tokens left after an
 * allowed call (below zero when it reserved tokens to wait for), or what was available for a refused one, or the
 * milliseconds a blocked bucket stays blocked.
 */
function decisionOf(reply: TokenBucketReply, index: number, rule: TokenBucketRule, cost: number): RateLimitDecision {
  const { capacity, refillPerMs } = rule;
  const allowed = reply[index * 3] === 1;
  const blockedMs = reply[index * 3 + 2];
  if (blockedMs !== '' && blockedMs !== undefined) {
    const forMs = Number(blockedMs);
    return { allowed: false, remaining: 0, waitMs: 0, retryAfterMs: forMs, resetMs: forMs };
  }
  const tokens = Number(reply[index * 3 + 1]);
  return {
    allowed,
    remaining: Math.max(0, Math.floor(tokens)),
    waitMs: allowed && tokens < 0 ? -tokens / refillPerMs : 0,
    retryAfterMs: allowed ? 0 : (cost - tokens) / refillPerMs,
    resetMs: (capacity - tokens) / refillPerMs,
  };
}
