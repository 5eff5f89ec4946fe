/**
 * The token-bucket rule of `spendTokens` (lib/core/rate-limit/token-bucket.ts) as one atomic Redis script, so a
 * check is one round trip. Time comes from the Redis server, so replicas with drifting clocks still share one bucket.
 * Only KEYS[1] is touched, which keeps the script valid on Redis Cluster. A bucket that is full again is deleted, and
 * every other bucket expires soon after it would be full, so idle keys never pile up.
 *
 * The bucket is one string key, "<tokens> <updated ms>". Its expiry is set with room to spare (twice the refill time,
 * plus a second) and only rewritten when it would not cover the refill time: a key lives at least until its bucket is
 * full again. Needs Redis 6 or later (KEEPTTL).
 * ARGV: capacity, refill per millisecond, cost, max wait (ms).
 * Reply: allowed (1/0), and the tokens left (as a string, to keep the fraction): the caller derives the waits from
 * them, which keeps the script short (it runs on Redis's only thread).
 */
export const TOKEN_BUCKET_SCRIPT = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = clock[1] * 1000 + clock[2] / 1000
local tokens = capacity
local state = redis.call('GET', KEYS[1])
if state then
  local saved, updated = string.match(state, '([^ ]+) ([^ ]+)')
  tokens = math.min(capacity, saved + math.max(0, now - updated) * rate)
end
local after = tokens - cost
local allowed = 1
if after < 0 and -after / rate > tonumber(ARGV[4]) then allowed = 0 else tokens = after end
local reset = (capacity - tokens) / rate
if reset <= 0 then
  redis.call('DEL', KEYS[1])
elseif redis.call('PTTL', KEYS[1]) > reset then
  -- Still lives long enough: rewriting the expiry costs Redis more than the rest of the script.
  redis.call('SET', KEYS[1], tokens .. ' ' .. now, 'KEEPTTL')
else
  redis.call('SET', KEYS[1], tokens .. ' ' .. now, 'PX', math.ceil(reset * 2) + 1000)
end
return {allowed, tostring(tokens)}
`;

/** Deletes the probe lease only if this replica still holds it (it may have expired and passed to a peer). */
export const RELEASE_LEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
