/** Lua fragments shared by several scripts. */

// Raises the seq counter to a floor: after Redis restarted with its data
// lost, the counter starts again above the highest seq any instance has seen.
export const RAISE_FLOOR = `
local function raise_floor(key, floor)
  local current = tonumber(redis.call('GET', key) or '0')
  if current < floor then redis.call('SET', key, floor) end
end
`

// Redis's own clock in ms: instances compare deadlines with it, not with each other's clocks.
export const NOW_MS = `
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
`

