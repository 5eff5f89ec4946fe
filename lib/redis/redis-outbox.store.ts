import type { Cluster, Redis } from 'ioredis';
import type {
  OutboxAppendResult,
  OutboxEntry,
  OutboxLimits,
  OutboxSize,
  OutboxStore,
} from '../core/outbox/outbox.store.js';
import { OptionsValidator, typeOf } from '../core/validation/options.validator.js';
import type { RedisStore } from './redis-store.js';
import { sendWhenReady } from './send-when-ready.js';

/** Options of a {@link RedisOutboxStore}. */
export interface RedisOutboxStoreOptions {
  /** Key prefix after the store's own prefix. Default `outbox:`. */
  readonly prefix?: string;
}

// Keys of one outbox (one hash tag: a Cluster keeps them on one node): the order (a sorted set of ids by sequence),
// the entries (a hash of id -> JSON), the byte total, the sequence and the drain lease.
const APPEND = `
local count = redis.call('ZCARD', KEYS[1])
local bytes = tonumber(redis.call('GET', KEYS[3]) or '0')
local n = tonumber(ARGV[3])
local added, addedBytes = 0, 0
for i = 0, n - 1 do
  if redis.call('HEXISTS', KEYS[2], ARGV[4 + i * 3]) == 0 then
    added = added + 1
    addedBytes = addedBytes + tonumber(ARGV[5 + i * 3])
  end
end
if count + added > tonumber(ARGV[1]) then return {0, count, bytes, 'maxMessages'} end
if bytes + addedBytes > tonumber(ARGV[2]) then return {0, count, bytes, 'maxBytes'} end
for i = 0, n - 1 do
  local id = ARGV[4 + i * 3]
  if redis.call('HEXISTS', KEYS[2], id) == 0 then
    redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[4]), id)
    redis.call('HSET', KEYS[2], id, ARGV[6 + i * 3])
  end
end
redis.call('INCRBY', KEYS[3], addedBytes)
return {1, count + added, bytes + addedBytes}
`;

const PEEK = `
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #ids == 0 then return {} end
return redis.call('HMGET', KEYS[2], unpack(ids))
`;

const REMOVE = `
local removed = 0
for i = 1, #ARGV do
  local body = redis.call('HGET', KEYS[2], ARGV[i])
  if body then
    removed = removed + cjson.decode(body).bytes
    redis.call('HDEL', KEYS[2], ARGV[i])
    redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
local bytes = redis.call('DECRBY', KEYS[3], removed)
local count = redis.call('ZCARD', KEYS[1])
if count == 0 then redis.call('DEL', KEYS[3], KEYS[4]) bytes = 0 end
return {count, bytes}
`;

const LEASE = `
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`;

type Reply = (string | number)[];

/**
 * The outbox of a `RmqPublisher` in Redis, through a {@link RedisStore}'s connection: parked messages survive a
 * restart of the publisher, and replicas sharing a publisher name share its outbox, drained by one replica at a time
 * (a lease that expires, so a drainer that died lets another take over). Appends are all or nothing and checked
 * against the limits in one script. A store call that does not answer within the store's `commandTimeout` fails the
 * publish (`RMQ_PUBLISH_FAILED`); such a message may still have been parked: publish it again with the same
 * `messageId` and the consumer's deduplication keeps one copy.
 *
 * @example `outbox: { store: new RedisOutboxStore(store) }` in `RmqPublisherModule.register`
 */
export class RedisOutboxStore implements OutboxStore {
  private readonly prefix: string;

  constructor(
    private readonly store: RedisStore,
    options: RedisOutboxStoreOptions = {},
  ) {
    const validator = new OptionsValidator('store', 'RedisOutboxStore', 'new RedisOutboxStore(...)');
    validator.objectOptions('options', options, "{ prefix: 'outbox:' }", ['prefix']);
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      validator.fail('prefix', options.prefix, `must be a string, got ${typeOf(options.prefix)}`);
    }
    this.prefix = store.options.prefix + (options.prefix ?? 'outbox:');
  }

  async append(outbox: string, entries: readonly OutboxEntry[], limits: OutboxLimits): Promise<OutboxAppendResult> {
    const args: (string | number)[] = [limits.maxMessages, limits.maxBytes, entries.length];
    for (const entry of entries) args.push(entry.id, entry.bytes, JSON.stringify(entry));
    const reply = (await this.eval(APPEND, this.keys(outbox), args)) as Reply;
    const size = { count: Number(reply[1]), bytes: Number(reply[2]) };
    if (Number(reply[0]) === 1) return { accepted: true, size };
    return { accepted: false, size, limit: reply[3] as 'maxMessages' | 'maxBytes' };
  }

  async peek(outbox: string, limit: number): Promise<OutboxEntry[]> {
    const reply = (await this.eval(PEEK, this.keys(outbox), [limit])) as (string | null)[];
    return reply.filter((body): body is string => body !== null).map((body) => JSON.parse(body) as OutboxEntry);
  }

  async remove(outbox: string, ids: readonly string[]): Promise<OutboxSize> {
    if (ids.length === 0) return this.size(outbox);
    const reply = (await this.eval(REMOVE, this.keys(outbox), ids)) as Reply;
    return { count: Number(reply[0]), bytes: Number(reply[1]) };
  }

  async size(outbox: string): Promise<OutboxSize> {
    const [order, , bytes] = this.keys(outbox);
    const [count, total] = await Promise.all([
      this.send((client) => client.zcard(order)),
      this.send((client) => client.get(bytes)),
    ]);
    return { count, bytes: Number(total ?? 0) };
  }

  async lease(outbox: string, holder: string, ttlMs: number): Promise<boolean> {
    return Number(await this.eval(LEASE, [this.keys(outbox)[4]], [holder, ttlMs])) === 1;
  }

  async release(outbox: string, holder: string): Promise<void> {
    await this.eval(RELEASE, [this.keys(outbox)[4]], [holder]);
  }

  /** The keys of one outbox, under one hash tag. Names are data: only the tag's braces are kept out of them. */
  private keys(outbox: string): [string, string, string, string, string] {
    const base = `${this.prefix}{${outbox.replaceAll('}', '%7D')}}`;
    return [`${base}:order`, `${base}:entries`, `${base}:bytes`, `${base}:seq`, `${base}:lease`];
  }

  private eval(script: string, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    return this.send((client) => client.eval(script, keys.length, ...keys, ...args));
  }

  private send<T>(command: (client: Redis | Cluster) => Promise<T>): Promise<T> {
    const client = this.store.redis;
    return sendWhenReady(client, () => command(client), this.store.options.commandTimeout);
  }
}
