import t, { type Test as TapTest } from 'tap'
import { MAX_DATA_DEPTH } from '../../src/protocol/depth.js'
import { Client, publishEvent, startServer, token, type Server } from '../helper.js'
import { NEEDS_REDIS, RedisServer, spawnInstance, startInstance } from '../redis.js'

/**
 * A `data` nested 20,000 deep is 40 KB, under the body limit. It used to be
 * accepted and stored unencoded; the first resume that replayed it ran
 * JSON.stringify into a stack overflow, outside any catch, and the process
 * died. Now the depth is bounded at publish time.
 */

const deep = (levels: number): unknown => JSON.parse(deepText(levels))
/** `levels` nested arrays as JSON text (JSON.stringify itself overflows on 20,000). */
const deepText = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels)
/** A body whose `data` is `{"x": <20,000 nested arrays>}`, as text. */
const withHugeData = (fields: Record<string, unknown>): string => JSON.stringify(fields).slice(0, -1) + `,"data":{"x":${deepText(20_000)}}}`
/** A `data` of exactly `levels` levels: the object itself and levels - 1 nested arrays. */
const dataOfDepth = (levels: number): Record<string, unknown> => ({ x: deep(levels - 1) })

async function post (server: Server, path: string, body: unknown): Promise<Response> {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  return await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token('cm', { roles: ['publisher'] })}` },
    body: text
  })
}

async function expectTooDeep (t: TapTest, response: Response, what: string): Promise<void> {
  t.equal(response.status, 400, `${what}: 400`)
  const body = await response.json() as Record<string, unknown>
  t.equal(body.code, 'PUSH_DATA_TOO_DEEP', `${what}: its code`)
  t.match(body.message, new RegExp(`at most ${MAX_DATA_DEPTH} levels`), `${what}: the message names the limit`)
}

t.test('a 20,000-deep event or alert is refused, and the process keeps serving resumes', async t => {
  const instance = await spawnInstance(t, { RESUME_GRACE_MS: '0' })
  const server = instance.server
  await expectTooDeep(t, await post(server, '/api/events', withHugeData({ camera_id: 'cam', event_type: 'motion' })), 'event')
  await expectTooDeep(t, await post(server, '/api/alerts', withHugeData({ level: 'critical', message: 'm', user_id: 'offline-user' })), 'alert for an offline user')
  await expectTooDeep(t, await post(server, '/api/alerts', { level: 'info', message: 'm', data: dataOfDepth(MAX_DATA_DEPTH + 1) }), 'one level too deep')

  // Every kind of dashboard resumes from the start, including the offline user.
  for (const user of ['viewer', 'offline-user']) {
    const client = await Client.open(`${server.wsUrl}?token=${token(user)}&last_seq=0`, t)
    const resumed = await client.next(m => m.type === 'connection_status' && (m.status === 'resumed' || m.status === 'resync_required'))
    t.ok(resumed, `${user} resumes`)
    client.ws.close()
  }
  const health = await fetch(`${server.url}/healthz`)
  t.equal(health.status, 200, '/healthz still answers')
  t.equal(instance.child.exitCode, null, 'the process is alive')
  t.notMatch(instance.output(), /Maximum call stack|RangeError/, 'nothing overflowed')
})

t.test('data at the depth limit round-trips through live delivery and resume', async t => {
  const server = await startServer(t, { RESUME_GRACE_MS: 0 })
  const data = dataOfDepth(MAX_DATA_DEPTH)
  const live = await Client.open(`${server.wsUrl}?token=${token('viewer')}`, t)
  await live.next(m => m.status === 'connected')
  const response = await publishEvent(server, { camera_id: 'cam', event_type: 'motion', data })
  t.equal(response.status, 202)
  const { seq } = await response.json() as { seq: number }
  t.same((await live.nextOfType('camera_event')).data, data, 'live: the same data')

  const resumer = await Client.open(`${server.wsUrl}?token=${token('viewer')}&last_seq=0`, t)
  const replayed = await resumer.nextOfType('camera_event')
  t.equal(replayed.seq, seq)
  t.same(replayed.data, data, 'replayed: the same data')
  await resumer.next(m => m.status === 'resumed')
})

t.test('Redis mode: a 20,000-deep event is a 400, not a 500; one at the limit round-trips', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const server = await startInstance(t, redis, { RESUME_GRACE_MS: 0 })
  await expectTooDeep(t, await post(server, '/api/events', withHugeData({ camera_id: 'cam', event_type: 'motion' })), 'event')
  await expectTooDeep(t, await post(server, '/api/alerts', withHugeData({ level: 'critical', message: 'm', user_id: 'u' })), 'alert')

  const data = dataOfDepth(MAX_DATA_DEPTH)
  const response = await post(server, '/api/alerts', { level: 'info', message: 'deep', user_id: 'u', data })
  t.equal(response.status, 202)
  const client = await Client.open(`${server.wsUrl}?token=${token('u')}&last_seq=0`, t)
  const replayed = await client.nextOfType('alert')
  t.same(replayed.data, data, 'replayed from the Redis history with the same data')
  t.equal((await fetch(`${server.url}/healthz`)).status, 200)
})
