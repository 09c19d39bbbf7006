import { Script } from './script.js'

/**
 * The Lua scripts behind every cluster-wide decision. Redis runs one script
 * at a time, so each of them is atomic: no other instance can act between a
 * check and the write that depends on it.
 */

// Raises the seq counter to a floor: after Redis restarted with its data
// lost, the counter starts again above the highest seq any instance has seen.
const RAISE_FLOOR = `
local function raise_floor(key, floor)
  local current = tonumber(redis.call('GET', key) or '0')
  if current < floor then redis.call('SET', key, floor) end
end
`

// Redis's own clock in ms: instances compare deadlines with it, not with each other's clocks.
const NOW_MS = `
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
`

/**
 * Publishes a camera event or alert. The message arrives as the JSON text
 * before and after its seq, so the seq assigned here is spliced in without
 * re-encoding it. One script gives the seq, keeps the message in the bounded
 * history, counts it, and publishes it: the channel carries messages in seq
 * order, with no gap another instance could fill out of order.
 *
 * Each message's arrival (Redis's clock) is kept beside it, so that resume
 * can honour RESUME_WINDOW_MS; both sets are trimmed to the same size.
 *
 * With an idempotency key (KEYS[9]) the check and the record of the key
 * happen in the same script as the INCR: a duplicate publishes nothing and
 * gets the first seq back, even when the first script ran late (Redis was
 * stalled and its caller had already given up on it).
 *
 * KEYS: seq, history, events total, events of the day, events by type, cameras, last recognition,
 *       history arrivals, [idempotency key]
 * ARGV: floor, head, tail, history size, channel, is camera event (1/0), now ms,
 *       event type, camera id, last recognition JSON or '', max event types, [idempotency window ms]
 * Returns { seq, 1 if it was a duplicate (nothing published) else 0 }
 */
export const publishScript = new Script(RAISE_FLOOR + NOW_MS + `
if #KEYS >= 9 then
  local first = redis.call('GET', KEYS[9])
  if first then return { tonumber(first), 1 } end
end
raise_floor(KEYS[1], tonumber(ARGV[1]))
local seq = redis.call('INCR', KEYS[1])
local payload = ARGV[2] .. seq .. ARGV[3]
redis.call('ZADD', KEYS[2], seq, payload)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[4]) + 1))
redis.call('ZADD', KEYS[8], now_ms(), seq)
redis.call('ZREMRANGEBYRANK', KEYS[8], 0, -(tonumber(ARGV[4]) + 1))
if ARGV[6] == '1' then
  redis.call('INCR', KEYS[3])
  redis.call('HINCRBY', KEYS[4], 'events', 1)
  redis.call('PEXPIRE', KEYS[4], 172800000)
  local event_type = ARGV[8]
  if redis.call('HEXISTS', KEYS[5], event_type) == 0 and redis.call('HLEN', KEYS[5]) >= tonumber(ARGV[11]) then
    event_type = 'other'
  end
  redis.call('HINCRBY', KEYS[5], event_type, 1)
  redis.call('ZADD', KEYS[6], ARGV[7], ARGV[9])
  if ARGV[10] ~= '' then
    redis.call('HINCRBY', KEYS[4], 'recognitions', 1)
    redis.call('SET', KEYS[7], ARGV[10])
  end
end
if #KEYS >= 9 then redis.call('SET', KEYS[9], seq, 'PX', ARGV[12]) end
redis.call('PUBLISH', ARGV[5], payload)
return { seq, 0 }
`)

/** KEYS: seq. ARGV: floor. Returns the counter after raising it. */
export const raiseFloorScript = new Script(RAISE_FLOOR + `
raise_floor(KEYS[1], tonumber(ARGV[1]))
return tonumber(redis.call('GET', KEYS[1]) or '0')
`)

/**
 * Appends one message to the history, with its arrival, unless a message
 * with its seq is already kept (every instance may append the same
 * message), then trims.
 * KEYS: history, history arrivals. ARGV: seq, encoded message, history size.
 */
export const historyAppendScript = new Script(NOW_MS + `
if #redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1], 'LIMIT', 0, 1) == 0 then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[3]) + 1))
  redis.call('ZADD', KEYS[2], 'NX', now_ms(), ARGV[1])
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[3]) + 1))
end
return 1
`)

/**
 * Reads the history after a seq, with what is needed to tell a gap. With
 * the arrivals key it reads only what resume may replay: the newest
 * `count` seqs that arrived within `window` ms (RESUME_HISTORY and
 * RESUME_WINDOW_MS); without, everything kept (the bus catching up).
 * KEYS: history, seq, [history arrivals]. ARGV: last seen seq, [count, window ms or -1 for none].
 * Returns { oldest kept seq or -1, current seq counter, messages after lastSeq... }
 */
export const historySinceScript = new Script(NOW_MS + `
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local first = -1
if #oldest > 0 then first = tonumber(oldest[2]) end
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
local result = { first, current }
local after = tonumber(ARGV[1])
if #KEYS >= 3 then
  local newest_kept = current - tonumber(ARGV[2])
  if newest_kept > after then after = newest_kept end
  if tonumber(ARGV[3]) >= 0 then
    local expired = redis.call('ZREVRANGEBYSCORE', KEYS[3], '(' .. (now_ms() - tonumber(ARGV[3])), '-inf', 'LIMIT', 0, 1)
    if #expired > 0 and tonumber(expired[1]) > after then after = tonumber(expired[1]) end
  end
end
local messages = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. after, '+inf')
for i = 1, #messages do result[i + 2] = messages[i] end
return result
`)

// Gives this instance's connection set and user counts the lease's expiry,
// so the three keys live and die together.
const FOLLOW_LEASE = `
local function follow_lease(lease, conns, users)
  local ttl = redis.call('PTTL', lease)
  if ttl > 0 then
    redis.call('PEXPIRE', conns, ttl)
    redis.call('PEXPIRE', users, ttl)
  end
end
`

/**
 * Takes a connection slot for a user if the cluster-wide limit allows.
 * Slots of instances whose lease expired are freed on the way. A slot is
 * written three times in one step: in the user's slots (the limit), in this
 * instance's connection set (connection id → user id, whose size is the
 * instance's count) and, only when the set really grew, in its user counts,
 * so the counts always equal the set and never drift.
 *
 * A script that Redis runs after the instance stopped waiting for it (Redis
 * was stalled, the command timed out, the handshake was refused) must not
 * take a slot nobody will release: past the deadline it writes nothing.
 *
 * KEYS: the user's slots, this instance's lease, its connections, its users
 * ARGV: limit, connection id, instance id, instance key prefix, user id, deadline (Redis clock, ms)
 * Returns 1 admitted, 0 limit reached, -1 this instance's lease is gone (register again),
 * -2 the deadline had passed (nothing written).
 */
export const acquireScript = new Script(NOW_MS + FOLLOW_LEASE + `
if now_ms() > tonumber(ARGV[6]) then return -2 end
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
local entries = redis.call('HGETALL', KEYS[1])
local live = {}
local count = 0
for i = 1, #entries, 2 do
  local instance = entries[i + 1]
  local alive = live[instance]
  if alive == nil then
    alive = redis.call('EXISTS', ARGV[4] .. instance) == 1
    live[instance] = alive
  end
  if alive then count = count + 1 else redis.call('HDEL', KEYS[1], entries[i]) end
end
if count >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
if redis.call('HSET', KEYS[3], ARGV[2], ARGV[5]) == 1 then redis.call('HINCRBY', KEYS[4], ARGV[5], 1) end
follow_lease(KEYS[2], KEYS[3], KEYS[4])
return 1
`)

/**
 * Frees a connection slot; running it twice changes nothing. The user count
 * goes down only when the connection was in this instance's set.
 * KEYS: the user's slots, this instance's connections, its users. ARGV: connection id.
 */
export const releaseScript = new Script(`
redis.call('HDEL', KEYS[1], ARGV[1])
local user = redis.call('HGET', KEYS[2], ARGV[1])
if user then
  redis.call('HDEL', KEYS[2], ARGV[1])
  if redis.call('HINCRBY', KEYS[3], user, -1) <= 0 then redis.call('HDEL', KEYS[3], user) end
end
return 1
`)

/**
 * Writes slots this instance holds but Redis lost (a restart, an expired
 * lease), without the limit check: they are live connections. Writing one
 * twice changes nothing.
 * KEYS: lease, connections, users, then the slots of each connection's user.
 * ARGV: instance id, then connection id and user id for each slots key.
 * Returns -1 when the lease is gone (register first), else 1.
 */
export const restoreSlotsScript = new Script(FOLLOW_LEASE + `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
for i = 4, #KEYS do
  local connection = ARGV[2 * (i - 3)]
  local user = ARGV[2 * (i - 3) + 1]
  redis.call('HSET', KEYS[i], connection, ARGV[1])
  if redis.call('HSET', KEYS[2], connection, user) == 1 then redis.call('HINCRBY', KEYS[3], user, 1) end
end
follow_lease(KEYS[1], KEYS[2], KEYS[3])
return 1
`)

/**
 * Extends this instance's lease and raises the seq floor, and counts the
 * connection set without the connections whose slot the instance cannot
 * account for yet (acquires in flight, releases not done), so the count can
 * be compared exactly with the slots it holds, even under load.
 * KEYS: lease, connections, users, seq. ARGV: lease ms, floor, unsettled connection ids...
 * Returns { 1, or 0 when the lease had already expired (register again);
 *           Redis time seconds, microseconds; settled connections in the set }.
 */
export const refreshScript = new Script(RAISE_FLOOR + `
raise_floor(KEYS[4], tonumber(ARGV[2]))
local time = redis.call('TIME')
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return { 0, time[1], time[2], 0 } end
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
local settled = redis.call('HLEN', KEYS[2])
for i = 3, #ARGV do settled = settled - redis.call('HEXISTS', KEYS[2], ARGV[i]) end
return { 1, time[1], time[2], settled }
`)

/**
 * Creates this instance's lease, or extends it if it lives. A new lease
 * starts with an empty connection set: whatever is left of an expired one
 * is dropped, and the instance then restores the slots it holds.
 * KEYS: lease, connections, users, instances, seq. ARGV: instance id, lease ms, started at, floor.
 * Returns Redis time { seconds, microseconds }.
 */
export const registerScript = new Script(RAISE_FLOOR + `
raise_floor(KEYS[5], tonumber(ARGV[4]))
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3])
  redis.call('HSET', KEYS[1], 'started_at', ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
redis.call('SADD', KEYS[4], ARGV[1])
return redis.call('TIME')
`)

/**
 * Cluster totals over live instances; prunes instances whose lease expired.
 * An instance's connections are the size of its connection set, so they
 * cannot drift from the slots it holds.
 * KEYS: instances, optionally one user's slots. ARGV: instance key prefix, '1' to list users.
 * Returns { total connections, total users, {id, connections, ...}, {user, connections, ...}, the user's connections }
 */
export const totalsScript = new Script(`
local ids = redis.call('SMEMBERS', KEYS[1])
local total = 0
local user_count = 0
local users = {}
local instances = {}
for _, id in ipairs(ids) do
  if redis.call('EXISTS', ARGV[1] .. id) == 1 then
    local connections = redis.call('HLEN', ARGV[1] .. id .. ':conns')
    total = total + connections
    instances[#instances + 1] = id
    instances[#instances + 1] = connections
    local entries = redis.call('HGETALL', ARGV[1] .. id .. ':users')
    for i = 1, #entries, 2 do
      local count = tonumber(entries[i + 1])
      if count > 0 then
        local seen = users[entries[i]]
        if seen == nil then
          user_count = user_count + 1
          users[entries[i]] = count
        else
          users[entries[i]] = seen + count
        end
      end
    end
  else
    redis.call('SREM', KEYS[1], id)
  end
end
local listed = {}
if ARGV[2] == '1' then
  for user, count in pairs(users) do
    listed[#listed + 1] = user
    listed[#listed + 1] = count
  end
end
local mine = 0
if #KEYS > 1 then
  local entries = redis.call('HGETALL', KEYS[2])
  for i = 1, #entries, 2 do
    if redis.call('EXISTS', ARGV[1] .. entries[i + 1]) == 1 then mine = mine + 1 end
  end
end
return { total, user_count, instances, listed, mine }
`)

/**
 * Takes or keeps the statistics leadership. KEYS: leader. ARGV: instance id, ttl ms.
 * Returns 1 when this instance leads.
 */
export const leadScript = new Script(`
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if current == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`)

/** Gives up the leadership if held. KEYS: leader. ARGV: instance id. */
export const resignScript = new Script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`)

/**
 * The cluster-wide event counters.
 * KEYS: total, day, by type, cameras, last recognition. ARGV: oldest active camera time (ms).
 */
export const eventCountersScript = new Script(`
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. ARGV[1])
return {
  redis.call('GET', KEYS[1]) or '0',
  redis.call('HGET', KEYS[2], 'events') or '0',
  redis.call('HGET', KEYS[2], 'recognitions') or '0',
  redis.call('GET', KEYS[5]) or '',
  redis.call('ZCARD', KEYS[4]),
  redis.call('HGETALL', KEYS[3])
}
`)
