import t from 'tap'
import { Client, connect, token } from '../helper.js'
import { eventually, killHard, NEEDS_REDIS, RedisServer, spawnInstance, startInstance } from '../redis.js'

const LEASE_MS = 1500

async function tryConnect (wsUrl: string, user: string, t: { teardown (fn: () => unknown): void }): Promise<boolean> {
  const client = await Client.open(`${wsUrl}?token=${token(user)}`, t)
  const first = await Promise.race([client.next(), client.closed.then(() => null)])
  return first?.status === 'connected'
}

t.test('the slots of an instance killed with SIGKILL are freed when its lease expires', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const survivor = await startInstance(t, redis, { INSTANCE_LEASE_MS: LEASE_MS })
  const doomed = await spawnInstance(t, { REDIS_URL: redis.url, INSTANCE_LEASE_MS: String(LEASE_MS) })

  for (let i = 0; i < 4; i++) await connect(doomed.server, t, 'frank')
  await connect(survivor, t, 'frank')
  const sixth = await Client.open(`${survivor.wsUrl}?token=${token('frank')}`, t)
  t.equal((await sixth.closed).code, 1008, 'the limit holds while both instances live')

  await killHard(doomed.child)
  // The crashed instance's four slots come back within its lease: only then are new connections admitted.
  await eventually(async () => await tryConnect(survivor.wsUrl, 'frank', t), 'the dead instance\'s slots to be freed', LEASE_MS * 4)
  for (let i = 0; i < 3; i++) await connect(survivor, t, 'frank')
  const over = await Client.open(`${survivor.wsUrl}?token=${token('frank')}`, t)
  t.equal((await over.closed).code, 1008, 'five live connections: the limit still holds')

  const response = await fetch(`${survivor.url}/api/ws/status`, { headers: { authorization: `Bearer ${token('root', { roles: ['admin'] })}` } })
  const status = await response.json() as { total_connections: number, instances: Record<string, number> }
  t.equal(status.total_connections, 5, 'the dead instance no longer counts')
  t.equal(Object.keys(status.instances).length, 1)
})

t.test('a live instance keeps its slots across many lease periods', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const a = await startInstance(t, redis, { INSTANCE_LEASE_MS: 300 })
  const b = await startInstance(t, redis, { INSTANCE_LEASE_MS: 300 })
  for (let i = 0; i < 5; i++) await connect(a, t, 'gina')
  const admin = redis.client(t)
  const instanceKey = `push:instance:${a.app.backplane.id}`
  // Watch the lease key expire and be renewed several times over.
  let renewals = 0
  let last = Number(await admin.pttl(instanceKey))
  await eventually(async () => {
    const ttl = Number(await admin.pttl(instanceKey))
    if (ttl > last) renewals++
    last = ttl
    return renewals >= 5
  }, 'five lease renewals')
  const sixth = await Client.open(`${b.wsUrl}?token=${token('gina')}`, t)
  t.equal((await sixth.closed).code, 1008, 'the live connections still hold their five slots')
})
