import type { RateLimitDecision, TokenBucketRule } from '../core/rate-limit/rate-limit-store.interface.js';
import type { TokenBucketReply } from './scripted-client.js';

/** What a {@link CheckBatch} asks of its store. */
export interface BatchedCheckSender {
  /** One bucket's script call (a tick with one check). */
  sendOne(key: string, rule: TokenBucketRule, cost: number, maxWaitMs: number): Promise<TokenBucketReply>;
  /** Several independent checks in one script call: the number of keys, the keys, then five arguments per key. */
  sendEach(keysThenArgs: (string | number)[]): Promise<TokenBucketReply>;
  /** The decision for check `index` of `reply` (called for each check once Redis answered). */
  decide(reply: TokenBucketReply, index: number, rule: TokenBucketRule, cost: number): RateLimitDecision;
  /** Redis answered a batch (once per batch, before its decisions). */
  answered(): void;
  /** Redis did not answer: the decision `onStoreError` asks for this check. */
  failed(key: string, rule: TokenBucketRule, cost: number, maxWaitMs: number, error: unknown): RateLimitDecision;
}

/** Fields per queued check in {@link CheckBatch}'s flat queue: key, rule, cost, max wait, resolve. */
const FIELDS = 5;
/**
 * Checks per script call at most: a burst of thousands in one tick goes as several calls, so no call spreads more
 * arguments than a JavaScript call takes, and none holds Redis's only thread long.
 */
export const MAX_CHECKS_PER_CALL = 128;

/**
 * Sends the single-bucket checks issued in one tick as ONE script call (`nestResilienceTokenBucketEach`), each check
 * still decided on its own, in turn, in one atomic script: at 50 concurrent callers Redis runs one EVALSHA (one
 * script lookup, one `TIME`) and the client builds one command object and parses one reply per batch instead of one
 * per check. A tick with one check sends the one-bucket call as before, and a check always leaves before the event
 * loop turns (`process.nextTick`), so batching adds no wait.
 *
 * The checks of a batch share its fate: if Redis does not answer the call within `commandTimeout`, each check is
 * decided as `onStoreError` says, exactly as each would have been had it timed out alone (they left together).
 * Only for a single-node client: on a Cluster the keys of one tick may live on different nodes.
 */
export class CheckBatch {
  /** Flat (no object per check): key, rule, cost, maxWaitMs, resolve, for each check of the tick. */
  private queue: unknown[] = [];
  /** Hoisted: one bound function for every tick. */
  private readonly flush = (): void => this.send();

  constructor(
    private readonly store: BatchedCheckSender,
    /** The prefix of every key in Redis. */
    private readonly prefix: string,
  ) {}

  /** Queues one check for this tick's call; settles with its decision (never rejects). */
  add(key: string, rule: TokenBucketRule, cost: number, maxWaitMs: number): Promise<RateLimitDecision> {
    if (this.queue.length === 0) process.nextTick(this.flush);
    else if (this.queue.length === MAX_CHECKS_PER_CALL * FIELDS) this.send(); // full: sent now, the rest at the tick
    return new Promise<RateLimitDecision>((resolve) => {
      this.queue.push(key, rule, cost, maxWaitMs, resolve);
    });
  }

  private send(): void {
    const queue = this.queue;
    const count = queue.length / FIELDS;
    if (count === 0) return;
    this.queue = [];
    let sent: Promise<TokenBucketReply>;
    try {
      sent =
        count === 1
          ? this.store.sendOne(queue[0] as string, queue[1] as TokenBucketRule, queue[2] as number, queue[3] as number)
          : this.store.sendEach(this.argumentsOf(queue, count));
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (reply) => this.settle(queue, count, reply),
      (error: unknown) => this.fail(queue, count, error),
    );
  }

  /** The script's arguments: the number of keys, the prefixed keys, then five arguments per key. */
  private argumentsOf(queue: unknown[], count: number): (string | number)[] {
    const args = new Array<string | number>(1 + count * 6);
    args[0] = count;
    for (let i = 0; i < count; i++) {
      const at = i * FIELDS;
      const rule = queue[at + 1] as TokenBucketRule;
      args[1 + i] = this.prefix + (queue[at] as string);
      const argAt = 1 + count + i * 5;
      args[argAt] = rule.capacity;
      args[argAt + 1] = rule.refillPerMs;
      args[argAt + 2] = queue[at + 2] as number;
      args[argAt + 3] = queue[at + 3] as number;
      args[argAt + 4] = rule.blockMs ?? 0;
    }
    return args;
  }

  private settle(queue: unknown[], count: number, reply: TokenBucketReply): void {
    this.store.answered();
    for (let i = 0; i < count; i++) {
      const at = i * FIELDS;
      const resolve = queue[at + 4] as (decision: RateLimitDecision) => void;
      resolve(this.store.decide(reply, i, queue[at + 1] as TokenBucketRule, queue[at + 2] as number));
    }
  }

  private fail(queue: unknown[], count: number, error: unknown): void {
    for (let i = 0; i < count; i++) {
      const at = i * FIELDS;
      const resolve = queue[at + 4] as (decision: RateLimitDecision) => void;
      resolve(
        this.store.failed(
          queue[at] as string,
          queue[at + 1] as TokenBucketRule,
          queue[at + 2] as number,
          queue[at + 3] as number,
          error,
        ),
      );
    }
  }
}
