import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { connect, publishEvent, token, type Client } from '../helper.js'
import { eventually, killHard, NEEDS_REDIS, RedisServer, spawnInstance, startInstance } from '../redis.js'

const INTERVAL_MS = 1000

/** An upstream statistics endpoint that counts who fetched it (`?from=<instance>`). */
async function startUpstream (t: { teardown (fn: () => unknown): void }): Promise<{ url: string, hits: Map<string, number> }> {
  const hits = new Map<string, number>()
  const server = createServer((request, response) => {
    const from = new URL(request.url ?? '/', 'http://x').searchParams.get('from') ?? '?'
    hits.set(from, (hits.get(from) ?? 0) + 1)
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({ queue_depth: 7 }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/stats`, hits }
}

async function nextStatistics (client: Client, predicate: (data: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return await client.next(message => message.type === 'statistics_update' && predicate(message.data as Record<string, unknown>))
}

t.test('one leader gathers for the cluster, everyone pushes its snapshot, and another takes over when it dies', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const upstream = await startUpstream(t)
  const admin = redis.client(t)
  const shared = { STATS_INTERVAL_MS: INTERVAL_MS, INSTANCE_LEASE_MS: 1000 }

  // The first instance takes the leadership; it runs in its own process so it can be killed.
  const doomed = await spawnInstance(t, {
    REDIS_URL: redis.url,
    STATS_INTERVAL_MS: String(INTERVAL_MS),
    INSTANCE_LEASE_MS: '1000',
    STATS_UPSTREAM_URL: `${upstream.url}?from=doomed`
  })
  await eventually(async () => await admin.get('push:stats:leader') !== null, 'a leader')
  const a = await startInstance(t, redis, { ...shared, STATS_UPSTREAM_URL: `${upstream.url}?from=a` })
  const b = await startInstance(t, redis, { ...shared, STATS_UPSTREAM_URL: `${upstream.url}?from=b` })
  const onA = await connect(a, t, 'hank')
  const onB = await connect(b, t, 'ivy')
  await connect(doomed.server, t, 'jill')

  for (const [i, instance] of [a, b, a].entries()) {
    const response = await publishEvent(instance, { camera_id: `cam-${i}`, event_type: i === 2 ? 'face_recognized' : 'motion_detected', data: { person_name: 'Lee' } })
    t.equal(response.status, 202)
  }
  const complete = (data: Record<string, unknown>): boolean => data.total_connections === 3 && data.events_total === 3
  const fromA = await nextStatistics(onA, complete)
  const fromB = await nextStatistics(onB, complete)
  t.same(fromB, fromA, 'both instances push the same snapshot')
  t.equal((fromA.data as Record<string, unknown>).total_users, 3)
  t.same((fromA.data as Record<string, unknown>).upstream, { queue_depth: 7 })
  t.equal((fromA.data as Record<string, unknown>).stale, false)
  t.match(fromA.data, {
    events_today: 3,
    recognitions_today: 1,
    active_cameras: 3,
    events_by_type: { motion_detected: 2, face_recognized: 1 },
    last_recognition: { person_name: 'Lee', camera_id: 'cam-2' }
  }, 'event counters count what every instance published')
  t.notOk(a.app.backplane.id === await admin.get('push:stats:leader') || b.app.backplane.id === await admin.get('push:stats:leader'), 'the first instance leads')
  t.equal(upstream.hits.get('a') ?? 0, 0, 'followers never fetch the upstream')
  t.equal(upstream.hits.get('b') ?? 0, 0)
  t.ok((upstream.hits.get('doomed') ?? 0) > 0, 'the leader does')

  await killHard(doomed.child)
  // A survivor takes over and gathers; the dead instance's connection drops out with its lease.
  const after = await nextStatistics(onA, data => data.total_connections === 2)
  t.same(await nextStatistics(onB, data => data.total_connections === 2), after, 'the new leader\'s snapshot reaches both')
  const leader = await admin.get('push:stats:leader')
  const [leading, following] = leader === a.app.backplane.id ? ['a', 'b'] : ['b', 'a']
  t.ok(leader === a.app.backplane.id || leader === b.app.backplane.id, 'a survivor leads')
  t.ok((upstream.hits.get(leading) ?? 0) > 0, 'the new leader fetches the upstream')
  t.equal(upstream.hits.get(following) ?? 0, 0, 'the other survivor still does not')

  const response = await fetch(`${a.url}/api/statistics`, { headers: { authorization: `Bearer ${token('kim')}` } })
  const polled = await response.json() as { data: Record<string, unknown> }
  t.equal(polled.data.total_connections, 2, 'the polling endpoint serves the cluster snapshot')
})
