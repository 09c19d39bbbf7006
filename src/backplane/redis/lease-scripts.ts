import { NOW_MS, RAISE_FLOOR } from './lua-fragments.js'
import { Script } from './script.js'

/**
 * The Lua scripts behind connection slots and instance leases; like every
 * script, each runs atomically (see scripts.ts).
 */

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

// Presence transitions, written in the script that causes them: the online
// hash (user → since, ms) says who was announced online, so each user's
// online and offline are announced once, in order. A script collects its
// transitions and publishes them as one message (a JSON array) at the end:
// a burst of handshakes costs one PUBLISH per script call, and every
// instance parses one message per call instead of one per user.
const ANNOUNCE = `
local changes = {}
local function came_online(online, user, t)
  if redis.call('HSETNX', online, user, t) == 1 then
    changes[#changes + 1] = { u = user, on = 1, t = t, s = t }
  end
end
local function went_offline(online, user, t)
  local since = redis.call('HGET', online, user)
  if since then
    redis.call('HDEL', online, user)
    changes[#changes + 1] = { u = user, on = 0, t = t, s = tonumber(since) }
  end
end
local function announce(channel)
  if #changes > 0 then redis.call('PUBLISH', channel, cjson.encode(changes)) end
end
-- A user's slots held by live instances; those of dead instances are freed
-- on the way. The table live caches instance → alive for the rest of the script.
local function live_slots(slots, prefix, live)
  local entries = redis.call('HGETALL', slots)
  local count = 0
  for i = 1, #entries, 2 do
    local instance = entries[i + 1]
    local alive = live[instance]
    if alive == nil then
      alive = redis.call('EXISTS', prefix .. instance) == 1
      live[instance] = alive
    end
    if alive then count = count + 1 else redis.call('HDEL', slots, entries[i]) end
  end
  return count
end
`

/**
 * Takes connection slots for a batch of handshakes, each if its user's
 * cluster-wide limit allows: one script call (one round trip) for every
 * acquire this instance had waiting, however many. The work per acquire is
 * bounded by the user's own slots (at most the limit, plus slots of dead
 * instances, freed on the way), never by the number of connections or
 * users. Acquires run in order, so two of one user in the same batch see
 * each other. A slot is written three times in one step: in the user's
 * slots (the limit), in this instance's connection set (connection id →
 * user id, whose size is the instance's count) and, only when the set
 * really grew, in its user counts, so the counts always equal the set.
 *
 * An acquire Redis runs after its handshake stopped waiting (Redis was slow
 * or stalled) must not take a slot nobody will release: past its deadline
 * it writes nothing. (One that ran in time but whose answer came late is
 * released by the instance when the answer arrives.)
 *
 * A user whose live slots went from none to one comes online: added to the
 * online set and announced on the presence channel, in the same step, so
 * every instance sees each transition once.
 *
 * KEYS: this instance's lease, its connections, its users, the online users, then each acquire's user's slots
 * ARGV: limit, instance id, instance key prefix, presence channel, then per acquire:
 *       connection id, user id, deadline (Redis clock, ms)
 * Returns one number per acquire: 1 admitted, 0 limit reached, -2 the deadline had passed
 * (nothing written); every one is -1 when this instance's lease is gone (register again).
 */
export const acquireBatchScript = new Script(NOW_MS + FOLLOW_LEASE + ANNOUNCE + `
local n = #KEYS - 4
local results = {}
if redis.call('EXISTS', KEYS[1]) == 0 then
  for i = 1, n do results[i] = -1 end
  return results
end
local now = now_ms()
local limit = tonumber(ARGV[1])
local live = { [ARGV[2]] = true }
for i = 1, n do
  local slots = KEYS[4 + i]
  local connection = ARGV[3 * i + 2]
  local user = ARGV[3 * i + 3]
  if now > tonumber(ARGV[3 * i + 4]) then
    results[i] = -2
  else
    local count = live_slots(slots, ARGV[3], live)
    if count >= limit then
      results[i] = 0
    else
      redis.call('HSET', slots, connection, ARGV[2])
      if count == 0 then came_online(KEYS[4], user, now) end
      if redis.call('HSET', KEYS[2], connection, user) == 1 then redis.call('HINCRBY', KEYS[3], user, 1) end
      results[i] = 1
    end
  end
end
follow_lease(KEYS[1], KEYS[2], KEYS[3])
announce(ARGV[4])
return results
`)

/**
 * Frees connection slots, any number in one call (the releases of every
 * connection that closed in one turn); running it twice changes nothing.
 * The user count goes down only when the connection was in this instance's
 * set. A user left with no live slot goes offline (announced once: see
 * ANNOUNCE). The work per release is bounded by its user's slots; whether
 * an instance lives is looked up once per call.
 * KEYS: this instance's connections, its users, the online users, then each release's user's slots.
 * ARGV: instance key prefix, presence channel, then per release: connection id, user id.
 * Returns how many releases it ran.
 */
export const releaseBatchScript = new Script(NOW_MS + ANNOUNCE + `
local n = #KEYS - 3
local live = {}
local now = now_ms()
for i = 1, n do
  local slots = KEYS[3 + i]
  local connection = ARGV[2 * i + 1]
  redis.call('HDEL', slots, connection)
  local user = redis.call('HGET', KEYS[1], connection)
  if user then
    redis.call('HDEL', KEYS[1], connection)
    if redis.call('HINCRBY', KEYS[2], user, -1) <= 0 then redis.call('HDEL', KEYS[2], user) end
  end
  if live_slots(slots, ARGV[1], live) == 0 then went_offline(KEYS[3], ARGV[2 * i + 2], now) end
end
announce(ARGV[2])
return n
`)

/**
 * One page of the online users, checked against their slots: a user with
 * no live slot left (their instance crashed and its lease expired) goes
 * offline. Every instance runs it on a timer, one bounded page at a time.
 * KEYS: the online users. ARGV: cursor, page size, slots key prefix, instance key prefix, presence channel.
 * Returns the next cursor ('0' when the pass is complete).
 */
export const presenceSweepScript = new Script(NOW_MS + ANNOUNCE + `
local page = redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
local entries = page[2]
local live = {}
local now = now_ms()
for i = 1, #entries, 2 do
  if live_slots(ARGV[3] .. entries[i], ARGV[4], live) == 0 then went_offline(KEYS[1], entries[i], now) end
end
announce(ARGV[5])
return page[1]
`)

/**
 * Writes slots this instance holds but Redis lost (a restart, an expired
 * lease), without the limit check: they are live connections. Writing one
 * twice changes nothing. Their users are online again if Redis forgot them.
 * KEYS: lease, connections, users, online users, then the slots of each connection's user.
 * ARGV: instance id, presence channel, then connection id and user id for each slots key.
 * Returns -1 when the lease is gone (register first), else 1.
 */
export const restoreSlotsScript = new Script(NOW_MS + FOLLOW_LEASE + ANNOUNCE + `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local now = now_ms()
for i = 5, #KEYS do
  local connection = ARGV[2 * (i - 4) + 1]
  local user = ARGV[2 * (i - 4) + 2]
  redis.call('HSET', KEYS[i], connection, ARGV[1])
  came_online(KEYS[4], user, now)
  if redis.call('HSET', KEYS[2], connection, user) == 1 then redis.call('HINCRBY', KEYS[3], user, 1) end
end
follow_lease(KEYS[1], KEYS[2], KEYS[3])
announce(ARGV[2])
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
