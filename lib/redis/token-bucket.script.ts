/**
 * The token-bucket rule of `spendTokens` (lib/core/rate-limit/token-bucket.ts) as one atomic Redis script, so a
 * check is one round trip. Time comes from the Redis server, so replicas with drifting clocks still share one bucket.
 * Only KEYS[1] is touched, which keeps the script valid on Redis Cluster.
 *
 * The bucket is stored as one number, the moment it will be full again (its "theoretical arrival time", as in
 * GCRA): tokens now = capacity - (full at - now) x refill rate, so a spend of `cost` moves it `cost / rate` later,
 * and reserved tokens (a caller allowed to wait) move it beyond `now + capacity / rate`. A refused call changes
 * nothing and writes nothing. A full bucket is deleted; any other expires soon after it is full again (the expiry is
 * set with room to spare, twice the refill time plus a second, and only rewritten when it falls short). Redis 6+.
 *
 * ARGV: capacity, refill per millisecond, cost, max wait (ms).
 * Reply: allowed (1/0), and the tokens left (a string, to keep the fraction; below zero while reserved); the caller
 * derives the waits from them, which keeps the script short (it runs on Redis's only thread).
 */
export const TOKEN_BUCKET_SCRIPT = `
local capacity = tonumber(ARGV[1])
local per_token = 1 / tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = clock[1] * 1000 + clock[2] / 1000
local full_at = tonumber(redis.call('GET', KEYS[1]) or 0) or 0
if full_at < now then full_at = now end
local after = full_at + tonumber(ARGV[3]) * per_token
if after - now - capacity * per_token > tonumber(ARGV[4]) then
  return {0, tostring(capacity - (full_at - now) / per_token)}
end
local refill = after - now
if refill <= 0 then
  redis.call('DEL', KEYS[1])
elseif redis.call('PTTL', KEYS[1]) > refill then
  redis.call('SET', KEYS[1], tostring(after), 'KEEPTTL')
else
  redis.call('SET', KEYS[1], tostring(after), 'PX', math.ceil(refill * 2) + 1000)
end
return {1, tostring(capacity - refill / per_token)}
`;

/** Deletes the probe lease only if this replica still holds it (it may have expired and passed to a peer). */
export const RELEASE_LEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
