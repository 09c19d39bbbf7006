import { once } from 'node:events'
import t from 'tap'
import { connect, publishEvent, token } from '../helper.js'
import { eventually, NEEDS_REDIS, RedisServer, spawnInstance } from '../redis.js'

t.test('WORKERS=2 runs two worker processes on one port that behave as one service', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const service = await spawnInstance(t, { REDIS_URL: redis.url, WORKERS: '2' })
  const server = service.server
  const admin = `Bearer ${token('root', { roles: ['admin'] })}`
  const instanceCount = async (): Promise<number> => {
    const response = await fetch(`${service.url}/api/ws/status`, { headers: { authorization: admin } })
    return Object.keys((await response.json() as { instances: Record<string, number> }).instances).length
  }
  // The second worker may still be starting when the first answers.
  await eventually(async () => await instanceCount() === 2, 'both workers to register')

  const clients = []
  for (let i = 0; i < 6; i++) clients.push(await connect(server, t, `user-${i}`))
  const response = await fetch(`${service.url}/api/ws/status`, { headers: { authorization: admin } })
  const status = await response.json() as { total_connections: number, instances: Record<string, number> }
  t.equal(status.total_connections, 6)
  t.ok(Object.values(status.instances).every(count => count > 0), 'the port hands connections to both workers')

  const published = await publishEvent(server, { camera_id: 'door', event_type: 'motion_detected' })
  const { seq } = await published.json() as { seq: number }
  for (const client of clients) await client.next(message => message.type === 'camera_event' && message.seq === seq)
  t.pass('an event reaches the connections of both workers')

  const exited = once(service.child, 'exit')
  service.child.kill('SIGTERM')
  for (const client of clients) t.equal((await client.closed).code, 1012, 'each worker drains its connections with 1012')
  t.same(await exited, [0, null], 'the primary exits 0 once its workers stopped')
})
