/**
 * The token-bucket rule of `spendTokens` (lib/core/rate-limit/token-bucket.ts) as one atomic Redis script, so a
 * check is one round trip. Time comes from the Redis server, so replicas with drifting clocks still share one bucket.
 * Only KEYS[1] is touched, which keeps the script valid on Redis Cluster. A bucket that is full again is deleted, and
 * every other bucket expires when it would be full, so idle keys never pile up.
 *
 * ARGV: capacity, refill per millisecond, cost, max wait (ms).
 * Reply: allowed (1/0), tokens left, wait ms, retry-after ms, reset ms; numbers as strings to keep the fractions.
 */
export const TOKEN_BUCKET_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local max_wait = tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = capacity
  updated = now
end
local available = math.min(capacity, tokens + math.max(0, now - updated) * rate)
local after = available - cost
local wait = 0
if after < 0 then wait = -after / rate end
local allowed = wait <= max_wait
if allowed then tokens = after else tokens = available end
local reset = (capacity - tokens) / rate
if reset <= 0 then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 't', tostring(tokens), 'u', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil(reset) + 1000)
end
if allowed then
  return {1, tostring(tokens), tostring(wait), '0', tostring(reset)}
end
return {0, tostring(tokens), '0', tostring((cost - available) / rate), tostring(reset)}
`;

/** Deletes the probe lease only if this replica still holds it (it may have expired and passed to a peer). */
export const RELEASE_LEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
