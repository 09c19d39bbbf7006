import t from 'tap'
import { Client, connect, token } from '../helper.js'
import { eventually, NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'

// Longer than the stall (the 2 s command timeout), so the lease is still alive
// when Redis runs the handshakes' scripts late, as in production.
const LEASE_MS = 4000

/** Opens a connection and tells how the server answered: 'connected' or the close code. */
async function attempt (wsUrl: string, user: string, t: { teardown (fn: () => unknown): void }): Promise<{ outcome: string, client: Client }> {
  const client = new Client(`${wsUrl}?token=${token(user)}`)
  t.teardown(() => { client.ws.terminate() })
  const outcome = await Promise.race([
    client.next(message => message.type === 'connection_status').then(() => 'connected'),
    client.closed.then(({ code }) => String(code))
  ])
  return { outcome, client }
}

t.test('handshakes refused during a Redis stall leave no slot behind once Redis runs them late', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const instance = await startInstance(t, redis, { INSTANCE_LEASE_MS: LEASE_MS })
  // A first connection loads the scripts, as on any running service.
  const warm = await connect(instance, t, 'olga')
  warm.ws.close()
  await warm.closed

  redis.pause()
  t.teardown(() => { redis.resume() })
  const stalled = await Promise.all(Array.from({ length: 5 }, async () => await attempt(instance.wsUrl, 'olga', t)))
  t.same(stalled.map(s => s.outcome), ['1013', '1013', '1013', '1013', '1013'], 'every handshake during the stall is refused with 1013')
  redis.resume()

  // Within one lease of the resume the user has all five slots again.
  const open: Client[] = []
  await eventually(async () => {
    const { outcome, client } = await attempt(instance.wsUrl, 'olga', t)
    if (outcome === 'connected') open.push(client)
    return open.length === 5
  }, 'five connections to be admitted again', LEASE_MS)
  const sixth = await attempt(instance.wsUrl, 'olga', t)
  t.equal(sixth.outcome, '1008', 'the sixth is refused: the limit still holds')
})

t.test('an instance repairs its slots in Redis from the connections it holds, within one lease', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const instance = await startInstance(t, redis, { INSTANCE_LEASE_MS: 1500 })
  const id = instance.app.backplane.id
  const admin = redis.client(t)
  const live: string[] = []
  for (let i = 0; i < 2; i++) {
    const client = await connect(instance, t, 'pia')
    live.push(client.messages.find(message => message.type === 'connection_status')!.connection_id as string)
  }
  // Slots nobody holds (as a script run late would leave them), and a held one lost.
  const conns = `push:instance:${id}:conns`
  const users = `push:instance:${id}:users`
  await admin.multi()
    .hset('push:slots:pia', 'stray-1', id, 'stray-2', id, 'stray-3', id)
    .hset(conns, 'stray-1', 'pia', 'stray-2', 'pia', 'stray-3', 'pia')
    .hincrby(users, 'pia', 3)
    .hdel('push:slots:pia', live[1])
    .hdel(conns, live[1])
    .hincrby(users, 'pia', -1)
    .exec()

  const expected = Object.fromEntries(live.map(connection => [connection, id]))
  await eventually(async () => {
    const [slots, set, counts] = await Promise.all([admin.hgetall('push:slots:pia'), admin.hgetall(conns), admin.hgetall(users)])
    return JSON.stringify(slots) === JSON.stringify(expected) && Object.keys(set).sort().join() === [...live].sort().join() && counts.pia === '2'
  }, 'the slots in Redis to equal the live connections', 1500)
  const status = await fetch(`${instance.url}/api/ws/status`, { headers: { authorization: `Bearer ${token('root', { roles: ['admin'] })}` } })
  t.match(await status.json(), { total_connections: 2, total_users: 1, users: { pia: 2 } }, 'the counts equal the live connections')
  for (let i = 0; i < 3; i++) await connect(instance, t, 'pia')
  t.equal((await attempt(instance.wsUrl, 'pia', t)).outcome, '1008', 'three more, then the limit')
})
