import t, { type Test as TapTest } from 'tap'
import { Client, connect, startServer, token, type Server } from '../helper.js'
import { NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'

/**
 * A guard scoped to `site-a/*` against the real service: live fan-out and
 * resume replay follow the same rule (mayReceive), in memory and, with two
 * instances on one redis-server, across instances.
 */

const GUARD = { cameras: ['site-a/*'] }

async function post (server: Server, path: string, body: Record<string, unknown>): Promise<number> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token('gateway', { roles: ['publisher'] })}` },
    body: JSON.stringify(body)
  })
  if (response.status !== 202) throw new Error(`publish answered ${response.status}: ${await response.text()}`)
  return (await response.json() as { seq: number }).seq
}

/** Publishes a mix of in- and out-of-scope messages, then a sentinel; returns the seqs the guard may see. */
async function publishMix (server: Server): Promise<{ admitted: number[], sentinel: number }> {
  const admitted: number[] = []
  await post(server, '/api/events', { camera_id: 'site-b/cam1', event_type: 'face_recognized', data: { person_name: 'Bob' } })
  admitted.push(await post(server, '/api/events', { camera_id: 'site-a/cam1', event_type: 'face_recognized', data: { person_name: 'Ada' } }))
  await post(server, '/api/alerts', { level: 'warning', message: 'site-b camera offline', camera_id: 'site-b/cam1' })
  admitted.push(await post(server, '/api/alerts', { level: 'warning', message: 'site-a camera offline', camera_id: 'site-a/cam1' }))
  admitted.push(await post(server, '/api/alerts', { level: 'info', message: 'maintenance tonight' }))
  await post(server, '/api/events', { camera_id: 'site-b/cam2', event_type: 'motion' })
  const sentinel = await post(server, '/api/events', { camera_id: 'site-a/cam2', event_type: 'motion' })
  admitted.push(sentinel)
  return { admitted, sentinel }
}

const sequenced = (messages: Array<Record<string, unknown>>): Array<Record<string, unknown>> =>
  messages.filter(m => m.type === 'camera_event' || m.type === 'alert')

async function scenario (t: TapTest, publisher: Server, viewer: Server): Promise<void> {
  const guard = await connect(viewer, t, 'guard', GUARD)
  const everyone = await connect(viewer, t, 'supervisor')
  // The first ping ends the wait for a resume message: live from here on.
  await guard.roundTrip()
  await everyone.roundTrip()

  const { admitted, sentinel } = await publishMix(publisher)
  await guard.next(m => m.seq === sentinel)
  const live = sequenced(guard.messages)
  t.same(live.map(m => m.seq), admitted, 'live: only site-a events, site-a alerts and the alert without a camera')
  t.notOk(live.some(m => String(m.camera_id ?? '').startsWith('site-b/')), 'nothing from site-b')
  t.notOk(JSON.stringify(live).includes('Bob'), 'no person seen at site-b')

  await everyone.next(m => m.seq === sentinel)
  t.equal(sequenced(everyone.messages).length, 7, 'an unscoped token still gets everything')

  const resumed = await Client.open(`${viewer.wsUrl}?token=${token('guard', GUARD)}&last_seq=0`, t)
  const status = await resumed.next(m => m.type === 'connection_status' && m.status === 'resumed')
  t.equal(status.replayed, admitted.length, 'the replay counts only what the scope admits')
  t.same(sequenced(resumed.messages).map(m => m.seq), admitted, 'resume: the same messages, in order')
}

t.test('memory: a guard scoped to site-a/* gets site-a, never site-b, live and on resume', async t => {
  const server = await startServer(t)
  await scenario(t, server, server)
})

t.test('redis: published on one instance, the guard on another gets site-a only, live and on resume', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const a = await startInstance(t, redis)
  const b = await startInstance(t, redis)
  await scenario(t, a, b)
})

t.test('camera_ids: null for a scoped guard is every camera the scope admits, never more', async t => {
  const server = await startServer(t)
  const guard = await connect(server, t, 'guard', GUARD)
  guard.send({ type: 'subscribe', camera_ids: ['site-a/cam1'] })
  t.same((await guard.nextOfType('subscribed')).camera_ids, ['site-a/cam1'])
  guard.send({ type: 'subscribe', camera_ids: null })
  t.equal((await guard.nextOfType('subscribed')).camera_ids, null)
  await post(server, '/api/events', { camera_id: 'site-b/cam1', event_type: 'motion' })
  const sentinel = await post(server, '/api/events', { camera_id: 'site-a/cam9', event_type: 'motion' })
  await guard.next(m => m.seq === sentinel)
  t.same(sequenced(guard.messages).map(m => m.camera_id), ['site-a/cam9'])
})
