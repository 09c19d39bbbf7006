import { once } from 'node:events'
import type { Redis } from 'ioredis'
import t from 'tap'
import WebSocket from 'ws'
import { createBackplane } from '../../src/backplane/create-backplane.js'
import type { AcquireResult } from '../../src/backplane/slot-limiter.js'
import { BUSY_REASON } from '../../src/routes/ws-statistics.js'
import { Client, connect, testConfig, token, type Server } from '../helper.js'
import { BUSY_SCRIPT, eventually, NEEDS_REDIS, RedisServer, ReplyHoldingProxy, startInstance } from '../redis.js'

type Test = { teardown (fn: () => unknown): void }

/**
 * Runs busy scripts on their own connection until stopped, `gapMs` apart:
 * Redis answers, slowly. Without a gap, commands that queued up during one
 * script run before the next, but a command sent after a reply races the
 * next script and mostly loses.
 */
function slowDown (admin: Redis, busyMs: number, gapMs = 0): { stop: () => Promise<void> } {
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      await admin.eval(BUSY_SCRIPT, 0, busyMs)
      if (gapMs > 0) await new Promise(resolve => setTimeout(resolve, gapMs))
    }
  })()
  return {
    stop: async () => {
      stopped = true
      await loop
    }
  }
}

/** A handshake and how it ended: 'connected' (with its connection id) or the close code and reason. */
async function attempt (server: Server, user: string, t: Test): Promise<{ outcome: string, reason: string, client: Client, id?: string }> {
  const client = new Client(`${server.wsUrl}?token=${token(user)}`)
  t.teardown(() => { client.ws.terminate() })
  return await Promise.race([
    client.nextOfType('connection_status').then(message => ({ outcome: 'connected', reason: '', client, id: String(message.connection_id) })),
    client.closed.then(({ code, reason }) => ({ outcome: String(code), reason, client }))
  ])
}

/** What Redis holds for the slots: user → connection ids, this instance's set, its user counts. */
async function slotsInRedis (admin: Redis, instanceId: string, users: string[]): Promise<{ slots: Record<string, string[]>, conns: string[], counts: Record<string, string> }> {
  const slots: Record<string, string[]> = {}
  for (const user of users) {
    const held = Object.keys(await admin.hgetall(`push:slots:${user}`)).sort()
    if (held.length > 0) slots[user] = held
  }
  const conns = Object.keys(await admin.hgetall(`push:instance:${instanceId}:conns`)).sort()
  const counts = await admin.hgetall(`push:instance:${instanceId}:users`)
  return { slots, conns, counts }
}

t.test('a slow Redis: handshakes past REDIS_ACQUIRE_TIMEOUT_MS get 1013 PUSH_BACKPLANE_BUSY, Redis is not declared down, no slot is left behind', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const instance = await startInstance(t, redis, { INSTANCE_LEASE_MS: 4000, REDIS_ACQUIRE_TIMEOUT_MS: 100 })
  const admin = redis.client(t)
  const { health, id } = instance.app.backplane
  let downs = 0
  health.on('down', () => { downs++ })
  const warm = await connect(instance, t, 'warm')
  warm.ws.close()
  await warm.closed

  const users = Array.from({ length: 10 }, (_, i) => `slow-${i}`)
  const slow = slowDown(admin, 300)
  const attempts = await Promise.all(users.flatMap(user => [0, 1, 2].map(async () => await attempt(instance, user, t))))
  await slow.stop()

  const refused = attempts.filter(a => a.outcome !== 'connected')
  t.ok(refused.length > 0, `some handshakes were shed (${refused.length} of ${attempts.length})`)
  t.same([...new Set(refused.map(a => `${a.outcome} ${a.reason}`))], [`1013 ${BUSY_REASON}`], 'each refusal is 1013 with the PUSH_BACKPLANE_BUSY reason')
  t.equal(downs, 0, 'Redis was never declared unreachable')
  t.ok(health.up, 'and is up')

  // Exact once Redis is fast again: the slots are those of the open connections, and nothing else.
  const open = attempts.filter(a => a.outcome === 'connected')
  const expected: Record<string, string[]> = {}
  for (const user of users) {
    const ids = attempts.filter((a, i) => a.outcome === 'connected' && users[Math.floor(i / 3)] === user).map(a => a.id!).sort()
    if (ids.length > 0) expected[user] = ids
  }
  await eventually(async () => {
    const stored = await slotsInRedis(admin, id, users)
    return JSON.stringify(stored.slots) === JSON.stringify(expected) && stored.conns.length === open.length
  }, 'the slots in Redis to equal the open connections')
  const status = await fetch(`${instance.url}/api/ws/status`, { headers: { authorization: `Bearer ${token('root', { roles: ['admin'] })}` } })
  t.match(await status.json(), { total_connections: open.length }, 'the count equals the open connections')

  // And it recovers: every refused user can connect now.
  // (Retried one at a time: the 100 ms wait is short on a loaded machine.)
  for (const a of refused) {
    const user = users[attempts.indexOf(a) / 3 | 0]
    await eventually(async () => (await attempt(instance, user, t)).outcome === 'connected', `${user} to connect again`)
  }
  t.pass('every refused handshake succeeds when retried')
})

t.test('acquires that time out around their answer keep the slot accounting exact', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const admin = redis.client(t)
  const logger = { warn () {}, info () {}, error () {} }
  // A long lease: no refresh repairs the slots during the test, so what it checks is the acquires' own accounting.
  const backplane = await createBackplane(testConfig({ REDIS_URL: redis.url, REDIS_ACQUIRE_TIMEOUT_MS: 30, MAX_CONNECTIONS_PER_USER: 5, INSTANCE_LEASE_MS: 60_000 }), logger)
  t.teardown(async () => { await backplane.close() })
  await backplane.start()
  const users = Array.from({ length: 40 }, (_, i) => `exact-${i}`)

  // Busy scripts of 40 ms, 15 ms apart: acquires sent early in one wait past
  // their 30 ms (shed; written if Redis ran them in time, then released),
  // those sent in a gap or late in a script are admitted, and those in
  // between time out around their answer. Waves go on until both happened.
  const slow = slowDown(admin, 40, 15)
  const granted = new Map<string, string>()
  const outcomes: Record<string, number> = {}
  const pending: Array<Promise<void>> = []
  for (let wave = 0; wave < 80 || ((outcomes.ok ?? 0) === 0 || (outcomes.busy ?? 0) === 0); wave++) {
    if (wave === 2000) break
    for (const [u, user] of users.entries()) {
      if ((u + wave) % 3 !== 0) continue
      const connection = `c-${wave}-${u}`
      pending.push(backplane.slots.acquire(user, connection).then((result: AcquireResult) => {
        const key = result.ok ? 'ok' : result.reason
        outcomes[key] = (outcomes[key] ?? 0) + 1
        if (result.ok) granted.set(connection, user)
      }))
    }
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  await Promise.all(pending)
  await slow.stop()
  t.ok((outcomes.ok ?? 0) > 0 && (outcomes.busy ?? 0) > 0, `both admitted and shed acquires (${JSON.stringify(outcomes)})`)

  const expected = (): Record<string, string[]> => {
    const byUser: Record<string, string[]> = {}
    for (const [connection, user] of granted) (byUser[user] ??= []).push(connection)
    for (const ids of Object.values(byUser)) ids.sort()
    return Object.fromEntries(Object.entries(byUser).sort(([a], [b]) => users.indexOf(a) - users.indexOf(b)))
  }
  t.ok(Object.values(expected()).every(ids => ids.length <= 5), 'no user holds more than the limit')
  await eventually(async () => {
    const stored = await slotsInRedis(admin, backplane.id, users)
    const counts = Object.fromEntries(Object.entries(expected()).map(([user, ids]) => [user, String(ids.length)]))
    return JSON.stringify(stored.slots) === JSON.stringify(expected()) &&
      stored.conns.join() === [...granted.keys()].sort().join() &&
      JSON.stringify(Object.entries(stored.counts).sort()) === JSON.stringify(Object.entries(counts).sort())
  }, 'the slots in Redis to equal exactly the acquires that were granted', 3000)

  for (const [connection, user] of granted) backplane.slots.release(user, connection)
  await eventually(async () => {
    const stored = await slotsInRedis(admin, backplane.id, users)
    return Object.keys(stored.slots).length === 0 && stored.conns.length === 0 && (await admin.hlen('push:presence:online')) === 0
  }, 'every slot to be free once every granted one is released', 3000)
})

t.test('a slot Redis granted whose answer came after its handshake stopped waiting is released', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const proxy = await ReplyHoldingProxy.start(t, redis.port)
  const admin = redis.client(t)
  const logger = { warn () {}, info () {}, error () {} }
  // A long lease: no refresh repairs the slots during the test.
  const backplane = await createBackplane(testConfig({ REDIS_URL: proxy.url, REDIS_ACQUIRE_TIMEOUT_MS: 30, INSTANCE_LEASE_MS: 60_000 }), logger)
  t.teardown(async () => { await backplane.close() })
  await backplane.start()
  t.same(await backplane.slots.acquire('late', 'warm'), { ok: true })
  backplane.slots.release('late', 'warm')
  await eventually(async () => (await admin.hlen('push:slots:late')) === 0, 'the warm-up slot to be free')

  // Redis grants the slot at once, but its answer is held back past the
  // handshake's wait (a slow network between the instance and Redis).
  proxy.hold()
  const answer = backplane.slots.acquire('late', 'late-1')
  await eventually(async () => (await admin.hlen('push:slots:late')) === 1, 'Redis to grant the slot')
  t.same(await answer, { ok: false, reason: 'busy' }, 'the handshake was refused as busy')
  proxy.release()
  await eventually(async () => (await admin.hlen('push:slots:late')) === 0 && (await admin.hlen(`push:instance:${backplane.id}:conns`)) === 0,
    'the slot Redis granted to be released', 3000)
  t.same(await admin.hgetall(`push:instance:${backplane.id}:users`), {}, 'and the user count with it')
})

t.test('past REDIS_ACQUIRE_QUEUE_MAX waiting handshakes, upgrades get HTTP 503 PUSH_BACKPLANE_BUSY with Retry-After', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const instance = await startInstance(t, redis, { REDIS_ACQUIRE_TIMEOUT_MS: 1800, REDIS_ACQUIRE_QUEUE_MAX: 1 })
  const admin = redis.client(t)
  await connect(instance, t, 'queue-warm')
  await admin.ping()

  // Redis busy for 1.2 s. The first acquires go out as the two calls in flight
  // (the second carries those that came during its linger, up to 5 ms), one
  // more waits here, and the upgrade after that is refused.
  const busy = admin.eval(BUSY_SCRIPT, 0, 1200)
  const waiting: Array<Promise<{ outcome: string }>> = []
  let response: import('node:http').IncomingMessage | undefined
  for (let i = 0; i < 40 && response === undefined; i++) {
    const client = new Client(`${instance.wsUrl}?token=${token(`queue-${i}`)}`)
    client.ws.on('error', () => {})
    t.teardown(() => { client.ws.terminate() })
    // The server takes the upgrade (its 101 is held until the slot is
    // answered, so the client cannot tell); whichever comes second never
    // settles or rejects with the socket's end: ignored.
    const upgraded = once(instance.app.websocketServer, 'headers').then(() => undefined, () => undefined)
    const refused = once(client.ws, 'unexpected-response').then(([, res]) => res as import('node:http').IncomingMessage, () => undefined)
    response = await Promise.race([upgraded, refused])
    if (response !== undefined) break
    waiting.push(Promise.race([
      client.nextOfType('connection_status').then(() => ({ outcome: 'connected' })),
      client.closed.then(({ code }) => ({ outcome: String(code) }))
    ]))
  }
  if (response === undefined) {
    t.fail('forty upgrades in a row were let in while Redis was busy and REDIS_ACQUIRE_QUEUE_MAX is 1')
    return
  }
  t.ok(waiting.length >= 3, `the two calls in flight and one waiting were let in first (${waiting.length})`)
  let body = ''
  for await (const chunk of response) body += String(chunk)
  t.equal(response.statusCode, 503, 'refused before the upgrade happens')
  t.equal(response.headers['retry-after'], '2', 'with a Retry-After')
  t.match(JSON.parse(body), { code: 'PUSH_BACKPLANE_BUSY', message: /REDIS_ACQUIRE_QUEUE_MAX/ })
  await busy
  t.same(await Promise.all(waiting), waiting.map(() => ({ outcome: 'connected' })), 'every one that waited is admitted once Redis answers')
})
