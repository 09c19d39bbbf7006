import type { Redis } from 'ioredis'
import t from 'tap'
import { releaseBatchScript } from '../../src/backplane/redis/lease-scripts.js'
import { Channels, Keys } from '../../src/backplane/redis/keys.js'
import type { RedisBackplane } from '../../src/backplane/redis/redis-backplane.js'
import { Client, token, waitFor } from '../helper.js'
import { eventually, NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'

/** The release script calls Redis runs from now on, each with how many releases it carried. */
async function watchReleases (redis: RedisServer, t: Parameters<typeof redis.client>[0]): Promise<number[]> {
  const monitor = await redis.client(t).monitor()
  t.teardown(() => { monitor.disconnect() })
  const calls: number[] = []
  monitor.on('monitor', (_time: string, args: string[]) => {
    // EVALSHA sha numkeys keys… args…: 3 fixed keys, then one per release.
    if (args[0].toLowerCase() === 'evalsha' && args[1] === releaseBatchScript.sha) calls.push(Number(args[2]) - 3)
  })
  return calls
}

/** Offline announcements on the presence channel, by user. */
async function watchOffline (redis: RedisServer, t: Parameters<typeof redis.client>[0]): Promise<Map<string, number>> {
  const subscriber = redis.client(t)
  const offline = new Map<string, number>()
  subscriber.on('message', (_channel: string, payload: string) => {
    const change = JSON.parse(payload) as { u: string, on: number }
    if (change.on === 0) offline.set(change.u, (offline.get(change.u) ?? 0) + 1)
  })
  await subscriber.subscribe(Channels.presence)
  return offline
}

async function slotsLeft (admin: Redis, backplane: RedisBackplane, users: string[]): Promise<Record<string, number>> {
  const id = backplane.id
  const left: Record<string, number> = {
    conns: await admin.hlen(Keys.instanceConns(id)),
    users: await admin.hlen(Keys.instanceUsers(id)),
    online: await admin.hlen(Keys.presenceOnline)
  }
  for (const user of users) left[user] = await admin.hlen(Keys.slots(user))
  return left
}

t.test('releases made in one turn go to Redis as one script call, and leave Redis exactly empty', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const instance = await startInstance(t, redis)
  const backplane = instance.app.backplane as RedisBackplane
  const admin = redis.client(t)
  const users = Array.from({ length: 12 }, (_, i) => `u${i}`)
  const connections = users.flatMap(user => Array.from({ length: 5 }, (_, k) => [user, `${user}-c${k}`] as const))
  const granted = await Promise.all(connections.map(async ([user, id]) => await backplane.slots.acquire(user, id)))
  t.ok(granted.every(result => result.ok), 'every user holds its five slots')
  t.equal(await admin.hlen(Keys.instanceConns(backplane.id)), 60)

  const calls = await watchReleases(redis, t)
  const offline = await watchOffline(redis, t)
  for (const [user, id] of connections) backplane.slots.release(user, id)
  await eventually(async () => (await admin.hlen(Keys.instanceConns(backplane.id))) === 0, 'the releases to run')
  await eventually(async () => offline.size === 12, 'every user to be announced offline')
  t.same(calls, [60], 'one call carried all 60 releases')
  t.same(await slotsLeft(admin, backplane, users), { conns: 0, users: 0, online: 0, ...Object.fromEntries(users.map(user => [user, 0])) }, 'no slot, count or online entry is left')
  t.same([...offline.values()], users.map(() => 1), 'each user went offline once, when its last slot went')

  // Freed for real: every user can take five slots again, and no more.
  const again = await Promise.all(connections.map(async ([user, id]) => await backplane.slots.acquire(user, `${id}-again`)))
  t.ok(again.every(result => result.ok), 'the slots can be taken again')
  t.same(await backplane.slots.acquire('u0', 'u0-sixth'), { ok: false, reason: 'connection_limit', limit: 5 }, 'the limit still holds')
})

t.test('a user still connected elsewhere stays online when some of its slots are released in a batch', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const a = await startInstance(t, redis)
  const b = await startInstance(t, redis)
  const onA = a.app.backplane as RedisBackplane
  const onB = b.app.backplane as RedisBackplane
  for (const id of ['v-a1', 'v-a2']) t.ok((await onA.slots.acquire('vera', id)).ok)
  t.ok((await onB.slots.acquire('vera', 'v-b1')).ok)
  const offline = await watchOffline(redis, t)
  const calls = await watchReleases(redis, t)
  onA.slots.release('vera', 'v-a1')
  onA.slots.release('vera', 'v-a2')
  const admin = redis.client(t)
  await eventually(async () => (await admin.hlen(Keys.instanceConns(onA.id))) === 0, 'the releases to run')
  t.same(calls, [2], 'both releases in one call')
  t.equal(await admin.hlen(Keys.slots('vera')), 1, 'the slot on the other instance stays')
  t.equal(await admin.hexists(Keys.presenceOnline, 'vera'), 1, 'vera is still online')
  // The last slot goes: now she is announced offline, once.
  onB.slots.release('vera', 'v-b1')
  await eventually(async () => offline.get('vera') === 1, 'vera to go offline')
  t.equal(await admin.hexists(Keys.presenceOnline, 'vera'), 0)
})

t.test('clients that drop together are released in far fewer calls than connections; the counts reach 0', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const instance = await startInstance(t, redis)
  const backplane = instance.app.backplane as RedisBackplane
  const clients: Client[] = []
  for (let i = 0; i < 60; i++) {
    const client = await Client.open(`${instance.wsUrl}?token=${token(`w${i % 12}`)}`, t)
    await client.next(message => message.type === 'connection_status')
    clients.push(client)
  }
  const calls = await watchReleases(redis, t)
  for (const client of clients) client.ws.terminate()
  await waitFor(() => instance.app.hub.size === 0, 'the service to see every close')
  const admin = redis.client(t)
  await eventually(async () => (await admin.hlen(Keys.instanceConns(backplane.id))) === 0, 'every slot to be released')
  t.equal(calls.reduce((sum, n) => sum + n, 0), 60, 'every connection released once')
  t.ok(calls.length <= 6, `60 closes took ${calls.length} script calls (one per connection before batching)`)
  const status = await (await fetch(`${instance.url}/api/ws/status`, { headers: { authorization: `Bearer ${token('root', { roles: ['admin'] })}` } })).json() as { total_connections: number, total_users: number }
  t.same([status.total_connections, status.total_users], [0, 0], 'the service counts nobody')
})
