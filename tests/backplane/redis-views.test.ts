import t from 'tap'
import { RedisBus } from '../../src/backplane/redis/redis-bus.js'
import { ClusterEventStatistics } from '../../src/backplane/redis/cluster-statistics.js'
import { CameraScope } from '../../src/protocol/camera-scope.js'
import { connect, publishEvent, token } from '../helper.js'
import { eventually, NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'
import { clusterWithGuard, getStatistics, namesSeen, nextStatistics, scopeMembers, serviceReadsCameraClaim, SITE_A_VIEW, SITE_EVENTS } from '../stats/views-helper.js'

const shared = { STATS_INTERVAL_MS: 200, INSTANCE_LEASE_MS: 1000 }

t.test('views are cluster-wide: published on A, a site-a/* client on B counts site-a only', { skip: NEEDS_REDIS }, async t => {
  const { a, b, guard, boss } = await clusterWithGuard(t)
  for (const event of SITE_EVENTS) t.equal((await publishEvent(a, event)).status, 202)

  const scoped = await nextStatistics(guard, data => data.events_total === 2)
  t.match(scoped, SITE_A_VIEW)
  t.same(scoped.events_by_type, SITE_A_VIEW.events_by_type)
  t.equal(scoped.total_connections, 2, 'connection counts stay cluster-wide')
  const all = await nextStatistics(boss, data => data.events_total === 4)
  t.match(all, { events_today: 4, recognitions_today: 2, active_cameras: 3, last_recognition: { person_name: 'Bob', camera_id: 'site-b/cam1' } })

  t.match(await getStatistics(b, token('guard', { cameras: ['site-a/*'] })), SITE_A_VIEW, 'the polling endpoint answers the same view')
  t.match(await getStatistics(b, token('nobody', { cameras: ['lobby-9'] })), { events_total: 0, last_recognition: null })

  await publishEvent(a, { camera_id: 'site-a/cam1', event_type: 'motion_detected', data: {} })
  await nextStatistics(guard, data => data.events_total === 3)
  t.notOk(namesSeen(guard).includes('Bob'), 'the guard never hears of a person seen on site-b')
  // The views of the two HTTP callers live one interval past their last request; the guard's stays.
  await eventually(async () => b.app.statisticsViews.size === 1, 'only the guard\'s view left')
})

t.test('the per-camera counts live in Redis and outlive the instance that counted them', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const admin = redis.client(t)
  const a = await startInstance(t, redis, shared)
  for (const event of SITE_EVENTS) await publishEvent(a, event)
  t.same(await admin.hgetall('push:events:camera:totals'), { 'site-a/cam1': '1', 'site-a/cam2': '1', 'site-b/cam1': '2' })
  t.equal(await admin.zcard('push:events:camera:index'), 3)
  await a.app.close()

  const b = await startInstance(t, redis, shared)
  const guard = await connect(b, t, 'guard')
  scopeMembers(b, 'guard', ['site-b/*'])
  await publishEvent(b, { camera_id: 'site-a/cam9', event_type: 'motion_detected', data: {} })
  const view = await nextStatistics(guard, data => data.events_total === 2)
  t.match(view, { recognitions_today: 1, last_recognition: { person_name: 'Bob', camera_id: 'site-b/cam1' } })
})

t.test('the publish script keeps at most its cap of cameras, forgetting the one seen longest ago', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const client = redis.client(t)
  const subscriber = redis.client(t)
  const bus = new RedisBus({ client, subscriber, storedMessages: 100, maxTrackedCameras: 2, logger: { warn () {} } })
  t.teardown(async () => { await bus.close() })
  await eventually(async () => client.status === 'ready' && subscriber.status === 'ready', 'both connections ready')
  await bus.start()
  const publish = async (camera: string, type = 'motion_detected', person?: string): Promise<void> => {
    await bus.publish({ type: 'camera_event', camera_id: camera, event_type: type, timestamp: new Date().toISOString(), data: person === undefined ? {} : { person_name: person } })
  }
  await publish('a', 'face_recognized', 'Ann')
  await publish('b')
  await publish('a')
  await publish('c', 'face_recognized', 'Cy')
  t.same(await client.zrange('push:events:camera:index', 0, -1), ['a', 'c'], 'b, seen longest ago, was forgotten')
  t.same(Object.keys(await client.hgetall('push:events:camera:totals')).sort(), ['a', 'c'])
  t.notOk(Object.keys(await client.hgetall('push:events:camera:types')).some(field => field.includes('"b"')), 'b\'s per-type counts went with it')
  const events = new ClusterEventStatistics(client)
  const [a, b, c, ac] = ['a', 'b', 'c', 'a,c'].map(entries => CameraScope.of(entries.split(',')))
  const views = await events.collectViews([a, b, c, ac, CameraScope.ALL])
  t.match(views.get(a.key), { events_total: 2, recognitions_today: 1, last_recognition: { person_name: 'Ann' }, events_by_type: { face_recognized: 1, motion_detected: 1 } })
  t.match(views.get(b.key), { events_total: 0, last_recognition: null })
  t.match(views.get(ac.key), { events_total: 3, recognitions_today: 2, active_cameras: 2, last_recognition: { person_name: 'Cy' } }, 'the newest recognition over the scope wins')
  t.match(views.get('*'), { events_total: 4, active_cameras: 3 }, 'the service-wide counters count every camera')
})

t.test('with the claim read by the service: a scoped token on B sees its view', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const a = await startInstance(t, redis, shared)
  const b = await startInstance(t, redis, shared)
  t.ok(serviceReadsCameraClaim(b), 'the service reads the cameras claim')
  const guard = await connect(b, t, 'guard', { cameras: ['site-a/*'] })
  for (const event of SITE_EVENTS) await publishEvent(a, event)
  t.match(await nextStatistics(guard, data => data.events_total === 2), SITE_A_VIEW)
  t.match(await getStatistics(b, token('guard', { cameras: ['site-a/*'] })), SITE_A_VIEW)
  t.notOk(namesSeen(guard).includes('Bob'))
})
