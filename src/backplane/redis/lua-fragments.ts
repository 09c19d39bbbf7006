/** Lua fragments shared by several scripts. */

/**
 * How far the seq counter jumps past an instance's floor when Redis lost it:
 * more messages than any instance can be behind the newest one.
 */
export const LOST_COUNTER_JUMP = 1_000_000

// Raises the seq counter to a floor (the highest seq the calling instance
// has seen), so that after Redis restarted with its data lost the counter
// continues above it. A missing counter while an instance has seen seqs
// means exactly that loss, and then the floors differ: an instance that had
// not yet received the last messages has a lower one, and if it came back
// first it would hand out seqs that others had already delivered (they
// would drop its messages as old). So a lost counter restarts far above
// the floor, beyond every instance's; a present one is only raised.
export const RAISE_FLOOR = `
local function raise_floor(key, floor)
  local current = redis.call('GET', key)
  if not current then
    if floor > 0 then redis.call('SET', key, floor + ${LOST_COUNTER_JUMP}) end
  elseif tonumber(current) < floor then
    redis.call('SET', key, floor)
  end
end
`

// Redis's own clock in ms: instances compare deadlines with it, not with each other's clocks.
export const NOW_MS = `
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
`

