import { NOW_MS, RAISE_FLOOR } from './lua-fragments.js'
import { Script } from './script.js'

/**
 * The Lua scripts behind every cluster-wide decision. Redis runs one script
 * at a time, so each of them is atomic: no other instance can act between a
 * check and the write that depends on it.
 */

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
 * With an idempotency key (KEYS[18]) the check and the record of the key
 * happen in the same script as the INCR: a duplicate publishes nothing and
 * gets the first seq back, even when the first script ran late (Redis was
 * stalled and its caller had already given up on it).
 *
 * A camera event is also counted per camera (KEYS 9-14), for the views of
 * scoped holders; at most ARGV[12] cameras are kept, the one whose last
 * event is oldest (by seq: milliseconds tie) forgotten first, so Redis
 * memory stays bounded.
 *
 * A camera event is counted in its minute too (KEYS 15-17: the `series`,
 * service-wide and per camera), in the same script as the day's count, so
 * the series never sums past `events_today`. Minute keys expire after two
 * hours; a forgotten camera leaves the current minute's hashes, so each
 * minute holds at most ARGV[12] cameras.
 *
 * KEYS: seq, history, events total, events of the day, events by type, cameras, last recognition,
 *       history arrivals, camera index, camera totals, camera day, camera day recognitions,
 *       camera types, camera last recognition, events of the minute, camera minute, camera minute
 *       recognitions, [idempotency key]
 * ARGV: floor, head, tail, history size, channel, is camera event (1/0), now ms,
 *       event type, camera id, last recognition JSON or '', max event types, max cameras,
 *       [idempotency window ms]
 * Returns { seq, 1 if it was a duplicate (nothing published) else 0 }
 */
export const publishScript = new Script(RAISE_FLOOR + NOW_MS + `
if #KEYS >= 18 then
  local first = redis.call('GET', KEYS[18])
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
  redis.call('HINCRBY', KEYS[15], 'events', 1)
  redis.call('PEXPIRE', KEYS[15], 7200000)
  redis.call('ZADD', KEYS[6], ARGV[7], ARGV[9])
  if ARGV[10] ~= '' then
    redis.call('HINCRBY', KEYS[4], 'recognitions', 1)
    redis.call('SET', KEYS[7], ARGV[10])
  end
  local camera = ARGV[9]
  if not redis.call('ZSCORE', KEYS[9], camera) and redis.call('ZCARD', KEYS[9]) >= tonumber(ARGV[12]) then
    local gone = redis.call('ZPOPMIN', KEYS[9])[1]
    for i = 10, 17 do
      if i ~= 13 and i ~= 15 then redis.call('HDEL', KEYS[i], gone) end
    end
    local types = redis.call('HKEYS', KEYS[5])
    for i = 1, #types do redis.call('HDEL', KEYS[13], cjson.encode({ gone, types[i] })) end
  end
  redis.call('ZADD', KEYS[9], seq, camera)
  redis.call('HINCRBY', KEYS[10], camera, 1)
  redis.call('HINCRBY', KEYS[11], camera, 1)
  redis.call('PEXPIRE', KEYS[11], 172800000)
  redis.call('HINCRBY', KEYS[13], cjson.encode({ camera, event_type }), 1)
  redis.call('HINCRBY', KEYS[16], camera, 1)
  redis.call('PEXPIRE', KEYS[16], 7200000)
  if ARGV[10] ~= '' then
    redis.call('HINCRBY', KEYS[15], 'recognitions', 1)
    redis.call('HINCRBY', KEYS[17], camera, 1)
    redis.call('PEXPIRE', KEYS[17], 7200000)
    redis.call('HINCRBY', KEYS[12], camera, 1)
    redis.call('PEXPIRE', KEYS[12], 172800000)
    redis.call('HSET', KEYS[14], camera, seq .. '|' .. ARGV[10])
  end
end
if #KEYS >= 18 then redis.call('SET', KEYS[18], seq, 'PX', ARGV[13]) end
redis.call('PUBLISH', ARGV[5], payload)
return { seq, 0 }
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
 * The cluster-wide event counters, with the series read in the same script
 * as the day's count (so they agree), and the cameras list: the ARGV[3]
 * newest cameras of the camera index, each with its last event time and its
 * count of the day. The time of each camera's last event is kept for the
 * ARGV[2] most recently active cameras (not only the active ones), so a
 * silent camera still shows when it was last heard; `active_cameras` counts
 * those within the window.
 * KEYS: total, day, by type, cameras, last recognition, camera index, camera day,
 *       then each minute of the series, oldest first.
 * ARGV: oldest active camera time (ms), cameras whose last event time is kept, cameras listed.
 * Returns the counters, the series as a flat list (events, recognitions of
 * each minute), then the cameras as a flat list (id, last event ms, today).
 */
export const eventCountersScript = new Script(`
redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -(tonumber(ARGV[2]) + 1))
local series = {}
for i = 8, #KEYS do
  local counts = redis.call('HMGET', KEYS[i], 'events', 'recognitions')
  series[#series + 1] = counts[1] or '0'
  series[#series + 1] = counts[2] or '0'
end
local cameras = {}
local newest = redis.call('ZREVRANGE', KEYS[6], 0, tonumber(ARGV[3]) - 1)
for i = 1, #newest do
  cameras[#cameras + 1] = newest[i]
  cameras[#cameras + 1] = redis.call('ZSCORE', KEYS[4], newest[i]) or '0'
  cameras[#cameras + 1] = redis.call('HGET', KEYS[7], newest[i]) or '0'
end
return {
  redis.call('GET', KEYS[1]) or '0',
  redis.call('HGET', KEYS[2], 'events') or '0',
  redis.call('HGET', KEYS[2], 'recognitions') or '0',
  redis.call('GET', KEYS[5]) or '',
  redis.call('ZCOUNT', KEYS[4], ARGV[1], '+inf'),
  redis.call('HGETALL', KEYS[3]),
  series,
  cameras
}
`)
