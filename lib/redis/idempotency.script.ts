/**
 * The idempotency records of `RedisIdempotencyStore`, one hash per record (fields `fp`, `token` while in flight,
 * `resp` once completed), each script touching only KEYS[1]: valid on Redis Cluster. The lease is the key's expiry,
 * so a record whose holder died disappears on its own; every write after acquire compares the fencing token first.
 */

/**
 * KEYS: the record, the token's tombstone (same slot). ARGV: fingerprint, token, lease (ms). Takes the lease on a
 * free key, else reports the record; refuses when the acquirer cancelled this token already (its call timed out and
 * the client was answered 503: a lease taken now would refuse the client's retries until it expired).
 * Reply: {'acquired'} | {'in-flight', fingerprint, ms left} | {'completed', fingerprint, response} | {'cancelled'}.
 */
export const IDEMPOTENCY_ACQUIRE_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 1 then return {'cancelled'} end
local record = redis.call('HMGET', KEYS[1], 'fp', 'token', 'resp')
if not record[1] then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'token', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'acquired'}
end
if record[2] then return {'in-flight', record[1], redis.call('PTTL', KEYS[1])} end
return {'completed', record[1], record[3]}
`;

/** ARGV: token, response, ttl (ms). Reply: 1 when stored, 0 when the token no longer holds the lease. */
export const IDEMPOTENCY_COMPLETE_SCRIPT = `
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'token')
redis.call('HSET', KEYS[1], 'resp', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/** ARGV: token. Reply: 1 when deleted, 0 when the token no longer holds the lease. */
export const IDEMPOTENCY_RELEASE_SCRIPT = `
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

/**
 * KEYS: the record, the token's tombstone. ARGV: token, tombstone ttl (ms). Undoes an acquire whose answer never
 * came: deletes the lease the token holds, or, when the acquire has not run yet, leaves a tombstone that makes it
 * refuse itself. Reply: 1 when a lease was deleted, 0 otherwise.
 */
export const IDEMPOTENCY_CANCEL_SCRIPT = `
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
return 0
`;
