import t, { type Test as TapTest } from 'tap'
import { connect, publishEvent, startServer, token, type Server } from '../helper.js'
import { eventually, NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'

// User ids and event types become object keys in the admin `users` map and
// in `events_by_type`. On a plain object, `obj["__proto__"] = n` sets the
// prototype instead of a key, so a user named "__proto__" vanished from the
// map. Keys a client chooses go into Maps or null-prototype objects.

async function adminStatus (server: Server): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.url}/api/ws/status`, { headers: { authorization: `Bearer ${token('root', { roles: ['admin'] })}` } })
  return await response.json() as Record<string, unknown>
}

async function statistics (server: Server): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.url}/api/statistics`, { headers: { authorization: `Bearer ${token('viewer')}` } })
  return ((await response.json()) as { data: Record<string, unknown> }).data
}

async function check (t: TapTest, server: Server): Promise<void> {
  await connect(server, t, '__proto__')
  await connect(server, t, '__proto__')
  await connect(server, t, 'constructor')
  await eventually(async () => {
    const users = (await adminStatus(server)).users as Record<string, unknown>
    return Object.hasOwn(users, '__proto__') && users.__proto__ === 2 && Object.hasOwn(users, 'constructor') && users['constructor'] === 1
  }, 'the admin users map to list "__proto__" with 2 connections and "constructor" with 1')
  t.ok(true, 'GET /api/ws/status lists the users "__proto__" and "constructor"')

  t.equal((await publishEvent(server, { camera_id: 'cam-1', event_type: '__proto__', data: {} })).status, 202)
  await eventually(async () => {
    const byType = (await statistics(server)).events_by_type as Record<string, number> | undefined
    return byType !== undefined && Object.hasOwn(byType, '__proto__') && byType.__proto__ === 1
  }, 'events_by_type to count the event type "__proto__"')
  t.ok(true, 'events_by_type counts the event type "__proto__"')
}

t.test('memory mode: "__proto__" as a user id and an event type keeps its key', async t => {
  const server = await startServer(t, { STATS_INTERVAL_MS: 100 })
  await check(t, server)
})

t.test('Redis mode: "__proto__" as a user id and an event type keeps its key', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const server = await startInstance(t, redis, { STATS_INTERVAL_MS: 100 })
  await check(t, server)
})
