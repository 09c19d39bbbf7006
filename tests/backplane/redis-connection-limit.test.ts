import t from 'tap'
import { Client, connect, token, waitFor } from '../helper.js'
import { eventually, NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'

async function status (url: string, user: string, roles: string[] = []): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}/api/ws/status`, { headers: { authorization: `Bearer ${token(user, { roles })}` } })
  return await response.json() as Record<string, unknown>
}

t.test('five connections of one user over three instances; the sixth is refused with 1008 on any of them', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const instances = await Promise.all([startInstance(t, redis), startInstance(t, redis), startInstance(t, redis)])
  const open: Client[] = []
  for (let i = 0; i < 5; i++) open.push(await connect(instances[i % 3], t, 'carol'))

  for (const [i, instance] of instances.entries()) {
    const sixth = await Client.open(`${instance.wsUrl}?token=${token('carol')}`, t)
    const closed = await sixth.closed
    t.equal(closed.code, 1008, `instance ${i} refuses the sixth`)
    t.equal(closed.reason, 'connection limit exceeded: 5 per user')
  }
  await connect(instances[2], t, 'dave')

  const mine = await status(instances[0].url, 'carol')
  t.equal(mine.user_connections, 5, 'user_connections counts every instance')
  t.equal(mine.total_connections, 6)
  t.equal(mine.total_users, 2)
  t.equal(mine.instances, undefined, 'instances are for admins only')
  const admin = await status(instances[1].url, 'root', ['admin'])
  const perInstance = Object.values(admin.instances as Record<string, number>).sort()
  t.same(perInstance, [2, 2, 2], 'admins see each instance\'s connections')
  t.same(admin.users, { carol: 5, dave: 1 })

  // A closed connection frees its slot for every instance.
  open[0].ws.close()
  await open[0].closed
  await waitFor(() => instances[0].app.hub.connectionsOf('carol') === 1, 'the instance to see the close')
  await eventually(async () => (await status(instances[0].url, 'carol')).user_connections === 4, 'the slot to be released in Redis')
  await t.resolves(connect(instances[1], t, 'carol'), 'the freed slot is taken on another instance')
})

t.test('twelve handshakes of one user racing over three instances leave exactly five open', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const instances = await Promise.all([startInstance(t, redis), startInstance(t, redis), startInstance(t, redis)])
  const clients = Array.from({ length: 12 }, (_, i) => new Client(`${instances[i % 3].wsUrl}?token=${token('erin')}`))
  t.teardown(() => { for (const client of clients) client.ws.terminate() })
  const outcomes = await Promise.all(clients.map(async client => await Promise.race([
    client.next(message => message.type === 'connection_status').then(() => 'connected'),
    client.closed.then(({ code }) => `closed ${code}`)
  ])))
  t.equal(outcomes.filter(outcome => outcome === 'connected').length, 5, 'five admitted')
  t.equal(outcomes.filter(outcome => outcome === 'closed 1008').length, 7, 'seven refused with 1008')
  const totals = await status(instances[0].url, 'erin')
  t.equal(totals.user_connections, 5)
})

t.test('messages a client sends while its slot is being checked in Redis are answered once it is admitted', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const instance = await startInstance(t, redis)
  const client = new Client(`${instance.wsUrl}?token=${token('nina')}`)
  t.teardown(() => { client.ws.terminate() })
  client.ws.once('open', () => {
    client.send({ type: 'subscribe', camera_ids: ['cam-1'] })
    client.send({ type: 'ping', timestamp: 'early' })
  })
  const first = await client.next()
  t.equal(first.status, 'connected', 'the connection status comes first')
  t.match(await client.nextOfType('subscribed'), { camera_ids: ['cam-1'] })
  t.match(await client.nextOfType('pong'), { echo: 'early' })
})
