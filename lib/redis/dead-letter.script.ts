/**
 * The writes of `RedisDeadLetterStore#add`, made undoable: each letter carries a marker key (in the stream's slot)
 * named after a per-call token. The add records the entry id there; a cancel (sent when the add timed out, so the
 * handler failed and the broker will redeliver the message) deletes that entry, or, when the add has not run yet,
 * marks the token cancelled so that the add refuses itself.
 */

/** KEYS: stream, marker. ARGV: max length, letter (JSON), marker ttl (ms). Reply: the entry id, or nil if cancelled. */
export const DEAD_LETTER_ADD_SCRIPT = `
local marker = redis.call('GET', KEYS[2])
if marker == 'cancelled' then return false end
if marker then return marker end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'letter', ARGV[2])
redis.call('SET', KEYS[2], id, 'PX', ARGV[3])
return id
`;

/** KEYS: stream, marker. ARGV: marker ttl (ms). Reply: 1 when an entry written late was deleted, else 0. */
export const DEAD_LETTER_CANCEL_SCRIPT = `
local marker = redis.call('GET', KEYS[2])
redis.call('SET', KEYS[2], 'cancelled', 'PX', ARGV[1])
if marker and marker ~= 'cancelled' then return redis.call('XDEL', KEYS[1], marker) end
return 0
`;

/**
 * KEYS: stream, the letter's claim key (same slot). ARGV: entry id, claim ttl (ms). Takes the right to replay a
 * letter that exists and is not being replayed; the claim is the key's expiry (Redis's own clock), so the claim of
 * a replayer that crashed ends on its own. Reply: 1 when claimed, else 0.
 */
export const DEAD_LETTER_CLAIM_SCRIPT = `
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return 1 end
return 0
`;
