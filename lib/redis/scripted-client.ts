import type { Cluster, Redis } from 'ioredis';
import { RELEASE_LEASE_SCRIPT, TOKEN_BUCKET_EACH_SCRIPT, TOKEN_BUCKET_SCRIPT } from './token-bucket.script.js';
import {
  IDEMPOTENCY_ACQUIRE_SCRIPT,
  IDEMPOTENCY_COMPLETE_SCRIPT,
  IDEMPOTENCY_CANCEL_SCRIPT,
  IDEMPOTENCY_RELEASE_SCRIPT,
} from './idempotency.script.js';
import { DEAD_LETTER_ADD_SCRIPT, DEAD_LETTER_CANCEL_SCRIPT, DEAD_LETTER_CLAIM_SCRIPT } from './dead-letter.script.js';

/** Three entries per bucket: allowed (1/0), tokens left (a string), and the block's milliseconds or ''. */
export type TokenBucketReply = (number | string)[];

/** An ioredis client with the store's scripts defined on it. */
export type ScriptedClient = (Redis | Cluster) & {
  nestResilienceTokenBucket(
    key: string,
    capacity: number,
    refillPerMs: number,
    cost: number,
    maxWaitMs: number,
    blockMs: number,
  ): Promise<TokenBucketReply>;
  /** The same script over several buckets: the number of keys, the keys, then five arguments per key. */
  nestResilienceTokenBuckets(count: number, ...keysThenArgs: (string | number)[]): Promise<TokenBucketReply>;
  /** Several independent checks (one tick's), each bucket decided and written in turn; arguments as above. */
  nestResilienceTokenBucketEach(count: number, ...keysThenArgs: (string | number)[]): Promise<TokenBucketReply>;
  nestResilienceReleaseLease(key: string, holder: string): Promise<number>;
  nestResilienceIdempotencyAcquire(
    key: string,
    tombstone: string,
    fingerprint: string,
    token: string,
    leaseMs: number,
  ): Promise<[outcome: string, fingerprint?: string, detail?: string | number]>;
  nestResilienceIdempotencyComplete(key: string, token: string, response: string, ttlMs: number): Promise<number>;
  nestResilienceIdempotencyRelease(key: string, token: string): Promise<number>;
  nestResilienceIdempotencyCancel(key: string, tombstone: string, token: string, ttlMs: number): Promise<number>;
  nestResilienceDeadLetterAdd(
    stream: string,
    marker: string,
    maxLength: number,
    body: string,
    markerTtlMs: number,
  ): Promise<string | null>;
  nestResilienceDeadLetterCancel(stream: string, marker: string, markerTtlMs: number): Promise<number>;
  nestResilienceDeadLetterClaim(stream: string, claim: string, id: string, ttlMs: number): Promise<number>;
};

/**
 * Defines the scripts once per client. ioredis sends each by SHA (EVALSHA) and loads it by EVAL only when a
 * connection does not know it yet, so a check stays one round trip after a Redis restart too.
 */
export function defineScripts(client: Redis | Cluster): ScriptedClient {
  const scripted = client as ScriptedClient;
  if (typeof scripted.nestResilienceTokenBucket !== 'function') {
    client.defineCommand('nestResilienceTokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET_SCRIPT });
    // The same script, by the same SHA; the number of keys comes first in each call.
    client.defineCommand('nestResilienceTokenBuckets', { lua: TOKEN_BUCKET_SCRIPT });
    client.defineCommand('nestResilienceTokenBucketEach', { lua: TOKEN_BUCKET_EACH_SCRIPT });
    client.defineCommand('nestResilienceReleaseLease', { numberOfKeys: 1, lua: RELEASE_LEASE_SCRIPT });
  }
  if (typeof scripted.nestResilienceIdempotencyAcquire !== 'function') {
    client.defineCommand('nestResilienceIdempotencyAcquire', { numberOfKeys: 2, lua: IDEMPOTENCY_ACQUIRE_SCRIPT });
    client.defineCommand('nestResilienceIdempotencyCancel', { numberOfKeys: 2, lua: IDEMPOTENCY_CANCEL_SCRIPT });
    client.defineCommand('nestResilienceIdempotencyComplete', { numberOfKeys: 1, lua: IDEMPOTENCY_COMPLETE_SCRIPT });
    client.defineCommand('nestResilienceIdempotencyRelease', { numberOfKeys: 1, lua: IDEMPOTENCY_RELEASE_SCRIPT });
  }
  if (typeof scripted.nestResilienceDeadLetterAdd !== 'function') {
    client.defineCommand('nestResilienceDeadLetterAdd', { numberOfKeys: 2, lua: DEAD_LETTER_ADD_SCRIPT });
    client.defineCommand('nestResilienceDeadLetterCancel', { numberOfKeys: 2, lua: DEAD_LETTER_CANCEL_SCRIPT });
    client.defineCommand('nestResilienceDeadLetterClaim', { numberOfKeys: 2, lua: DEAD_LETTER_CLAIM_SCRIPT });
  }
  return scripted;
}
