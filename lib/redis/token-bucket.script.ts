/**
 * The rule for bucket `i` (Lua, shared by both scripts): fills `reply`'s three entries and returns the moment the
 * bucket is full again after an admitted spend (nil when refused) and the value read; a block is written at once.
 * The moment is stored with 17 significant digits: Lua's `tostring` keeps 14, 0.1 ms at today's epoch, which could
 * refuse the last token of a burst decided at one `now` (the checks of one tick in one call).
 */
const DECIDE_BUCKET = `
local function decide(i, now, reply)
  local at = (i - 1) * 5
  local capacity = tonumber(ARGV[at + 1])
  local per_token = 1 / tonumber(ARGV[at + 2])
  local value = redis.call('GET', KEYS[i])
  local full_at = tonumber(value or 0) or 0
  if full_at < 0 and -full_at > now then
    reply[i * 3 - 2], reply[i * 3 - 1], reply[i * 3] = 0, '0', tostring(-full_at - now)
    return nil, value
  end
  if full_at < now then full_at = now end
  local after = full_at + tonumber(ARGV[at + 3]) * per_token
  if after - now - capacity * per_token > tonumber(ARGV[at + 4]) then
    local block = tonumber(ARGV[at + 5])
    if block > 0 then
      redis.call('SET', KEYS[i], tostring(-(now + block)), 'PX', math.ceil(block) + 1000)
      reply[i * 3 - 2], reply[i * 3 - 1], reply[i * 3] = 0, '0', tostring(block)
    else
      reply[i * 3 - 2], reply[i * 3 - 1], reply[i * 3] = 0, tostring(capacity - (full_at - now) / per_token), ''
    end
    return nil, value
  end
  reply[i * 3 - 2], reply[i * 3 - 1], reply[i * 3] = 1, tostring(capacity - (after - now) / per_token), ''
  return after, value
end
local function spend(i, after, value, now)
  local refill = after - now
  if refill > 0 then
    redis.call('SET', KEYS[i], string.format('%.17g', after), 'PX', math.ceil(refill * 2) + 1000)
  elseif value then
    redis.call('DEL', KEYS[i])
  end
end
local clock = redis.call('TIME')
local now = clock[1] * 1000 + clock[2] / 1000
local reply = {}
`;

/**
 * The token-bucket rule of `spendTokens` (lib/core/rate-limit/token-bucket.ts) as one atomic Redis script, so a
 * check is one round trip. Time comes from the Redis server, so replicas with drifting clocks still share one bucket.
 *
 * Each bucket is stored as one number, the moment it will be full again (its "theoretical arrival time", as in
 * GCRA): tokens now = capacity - (full at - now) x refill rate, so a spend of `cost` moves it `cost / rate` later,
 * and reserved tokens (a caller allowed to wait) move it beyond `now + capacity / rate`. A blocked bucket
 * (`blockDuration`) is stored as minus the moment the block ends; once it has passed the bucket is full. A full
 * bucket is deleted (or, when it had no key, left unwritten); any other expires soon after it is full again (the expiry
 * is set with room to spare, twice the refill time plus a second, on every write: one command, where reading the
 * expiry first to keep it took two). Redis 6+.
 *
 * Several keys (a handler with several limits) are decided together: every bucket spends only when all admit; a
 * refusal changes nothing but the blocks of the refusing buckets. A negative cost gives tokens back (the Cluster
 * path of `RedisStore.consumeAll`, whose keys may live on different nodes).
 *
 * KEYS: the buckets. ARGV, five per key: capacity, refill per millisecond, cost, max wait (ms), block (ms).
 * Reply, three per key: allowed (1/0), the tokens left (a string, to keep the fraction; below zero while reserved;
 * for a refusal what was available), and for a blocked bucket the milliseconds the block lasts (else ''); the caller
 * derives the waits from them, which keeps the script short (it runs on Redis's only thread).
 */
export const TOKEN_BUCKET_SCRIPT = `${DECIDE_BUCKET}
local spent = {}
local stored = {}
local refused = false
for i = 1, #KEYS do
  spent[i], stored[i] = decide(i, now, reply)
  if not spent[i] then refused = true end
end
if refused then return reply end
for i = 1, #KEYS do spend(i, spent[i], stored[i], now) end
return reply
`;

/**
 * The same rule over several independent checks (the checks of one tick, batched by `RedisStore.consume`): each
 * bucket is decided and written in turn, as if each were its own script call, so a key that appears twice sees the
 * first spend. Same KEYS, ARGV and reply as {@link TOKEN_BUCKET_SCRIPT}.
 */
export const TOKEN_BUCKET_EACH_SCRIPT = `${DECIDE_BUCKET}
for i = 1, #KEYS do
  local after, value = decide(i, now, reply)
  if after then spend(i, after, value, now) end
end
return reply
`;

/** Deletes the probe lease only if this replica still holds it (it may have expired and passed to a peer). */
export const RELEASE_LEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
