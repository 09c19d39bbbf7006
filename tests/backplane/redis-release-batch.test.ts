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

/** Offline announcements on the presence channel, by user; `messages` counts the channel's messages. */
async function watchOffline (redis: RedisServer, t: Parameters<typeof redis.client>[0]): Promise<Map<string, number> & { messages: number }> {
  const subscriber = redis.client(t)
  const offline = Object.assign(new Map<string, number>(), { messages: 0 })
  subscriber.on('message', (_channel: string, payload: string) => {
    offline.messages++
    // One message per script call: the transitions it made, in order.
    for (const change of JSON.parse(payload) as Array<{ u: string, on: number }>) {
      if (change.on === 0) offline.set(change.u, (offline.get(change.u) ?? 0) + 1)
    }
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

/** A redis-server and two instances on it, with their backplanes. */
async function twoInstances (t: Parameters<typeof RedisServer.start>[0]): Promise<{ redis: RedisServer, onA: RedisBackplane, onB: RedisBackplane }> {
  const redis = await RedisServer.start(t)
  const a = await startInstance(t, redis)
  const b = await startInstance(t, redis)
  return { redis, onA: a.app.backplane as RedisBackplane, onB: b.app.backplane as RedisBackplane }
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
  t.equal(offline.messages, 1, 'the twelve went offline in one presence message: one per script call, not one per user')

  // Freed for real: every user can take five slots again, and no more.
  const again = await Promise.all(connections.map(async ([user, id]) => await backplane.slots.acquire(user, `${id}-again`)))
  t.ok(again.every(result => result.ok), 'the slots can be taken again')
  t.same(await backplane.slots.acquire('u0', 'u0-sixth'), { ok: false, reason: 'connection_limit', limit: 5 }, 'the limit still holds')
})

t.test('a user still connected elsewhere stays online when some of its slots are released in a batch', { skip: NEEDS_REDIS }, async t => {
  const { redis, onA, onB } = await twoInstances(t)
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

t.test('acquires made in one turn announce their users online in one presence message, and every instance hears each user once', { skip: NEEDS_REDIS }, async t => {
  const { redis, onA, onB } = await twoInstances(t)
  const heard = { a: [] as string[], b: [] as string[] }
  t.teardown(onA.presence.onChange(change => { if (change.online) heard.a.push(change.userId) }))
  t.teardown(onB.presence.onChange(change => { if (change.online) heard.b.push(change.userId) }))
  const subscriber = redis.client(t)
  const payloads: string[] = []
  subscriber.on('message', (_channel: string, payload: string) => { payloads.push(payload) })
  await subscriber.subscribe(Channels.presence)

  // Two connections each for twelve users, acquired in one turn: one script call.
  const users = Array.from({ length: 12 }, (_, i) => `p${i}`)
  const granted = await Promise.all(users.flatMap(user => [1, 2].map(async k => await onA.slots.acquire(user, `${user}-c${k}`))))
  t.ok(granted.every(result => result.ok), 'every acquire was admitted')
  await waitFor(() => heard.a.length === 12 && heard.b.length === 12, 'both instances to hear twelve users come online')
  t.same(heard.b, users, 'the other instance heard each user once, in the order they came online')
  t.same(heard.a, users, 'and so did the instance that took the slots')
  t.equal(payloads.length, 1, 'one presence message carried all twelve')
  t.same((JSON.parse(payloads[0]) as Array<{ u: string, on: number }>).map(change => [change.u, change.on]), users.map(user => [user, 1]))

  // A message of an earlier version (one object) and an unreadable one: the first is read, the second skipped; the subscriber lives on.
  const admin = redis.client(t)
  await admin.publish(Channels.presence, 'not json')
  await admin.publish(Channels.presence, JSON.stringify([{ u: 'bad' }, { u: 'p-old', on: 1, t: 1, s: 1 }]))
  await admin.publish(Channels.presence, JSON.stringify({ u: 'p-single', on: 1, t: 2, s: 2 }))
  await waitFor(() => heard.b.includes('p-single'), 'the single-object message to be read')
  t.same(heard.b.slice(12), ['p-old', 'p-single'], 'the readable changes were heard, in order; the unreadable skipped')
})
