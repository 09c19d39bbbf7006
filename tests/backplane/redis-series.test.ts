import t from 'tap'
import { RedisBus } from '../../src/backplane/redis/redis-bus.js'
import { ClusterEventStatistics } from '../../src/backplane/redis/cluster-statistics.js'
import { CameraScope } from '../../src/protocol/camera-scope.js'
import { minuteOf } from '../../src/stats/sources/minute-series.js'
import { publishEvent, token } from '../helper.js'
import { eventually, NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'
import { clusterWithGuard, getStatistics, nextStatistics } from '../stats/views-helper.js'
import { countedBetween, seriesIn, sum, todaysSum } from '../stats/series-helper.js'

const shared = { STATS_INTERVAL_MS: 200, INSTANCE_LEASE_MS: 1000 }

t.test('the series is cluster-wide: published on A, read on B, per scope', { skip: NEEDS_REDIS }, async t => {
  const { redis, a, b, guard, boss } = await clusterWithGuard(t)
  const before = Date.now()
  for (const [camera, type] of [['site-a/cam1', 'motion_detected'], ['site-a/cam2', 'face_recognized'], ['site-b/cam1', 'face_recognized']]) {
    t.equal((await publishEvent(a, { camera_id: camera, event_type: type, data: { person_name: 'Ann' } })).status, 202)
  }
  const after = Date.now()

  const all = await nextStatistics(boss, data => data.events_total === 3)
  const series = seriesIn(all)
  t.equal(countedBetween(series, before, after), 3, 'B pushes the events A published, in their minute')
  t.equal(countedBetween(series, before, after, 'recognitions'), 2)
  t.equal(sum(series.events), 3)
  t.ok(todaysSum(series, after) <= (all.events_today as number), 'the chart never sums past the card')
  const scoped = await nextStatistics(guard, data => data.events_total === 2)
  t.equal(countedBetween(seriesIn(scoped), before, after), 2, 'the guard\'s series counts site-a only')
  t.equal(countedBetween(seriesIn(scoped), before, after, 'recognitions'), 1)
  const polled = await getStatistics(b, token('guard', { cameras: ['site-a/*'] }))
  t.equal(countedBetween(seriesIn(polled), before, after), 2, 'the polling endpoint answers the same view')
  const admin = redis.client(t)
  t.ok(await admin.pttl(`push:events:minute:${minuteOf(before)}`) > 0, 'minute counts expire')
})

t.test('cards and chart agree in Redis: over today\'s minutes the series never sums past events_today', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const a = await startInstance(t, redis, shared)
  const events = new ClusterEventStatistics(redis.client(t))
  for (let i = 0; i < 20; i++) {
    await publishEvent(a, { camera_id: `cam${i % 3}`, event_type: i % 5 === 0 ? 'face_recognized' : 'motion_detected', data: {} })
    const data = await events.collect()
    const today = todaysSum(seriesIn(data), Date.now())
    if (today > (data.events_today as number) || data.events_today !== i + 1) t.fail(`after ${i + 1} events: series ${today} for today, events_today ${String(data.events_today)}`)
  }
  const data = await events.collect()
  t.equal(sum(seriesIn(data).events), 20)
  t.equal(sum(seriesIn(data).recognitions), 4)
})

t.test('a camera the publish script forgets leaves the current minute\'s counts', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const client = redis.client(t)
  const subscriber = redis.client(t)
  const bus = new RedisBus({ client, subscriber, storedMessages: 100, maxTrackedCameras: 2, logger: { warn () {} } })
  t.teardown(async () => { await bus.close() })
  await eventually(async () => client.status === 'ready' && subscriber.status === 'ready', 'both connections ready')
  await bus.start()
  const before = Date.now()
  for (const camera of ['a', 'b', 'a', 'c']) {
    await bus.publish({ type: 'camera_event', camera_id: camera, event_type: 'face_recognized', timestamp: new Date().toISOString(), data: { person_name: 'Ann' } })
  }
  const after = Date.now()
  if (minuteOf(before) === minuteOf(after)) {
    t.same(Object.keys(await client.hgetall(`push:events:camera:minute:${minuteOf(after)}`)).sort(), ['a', 'c'], 'b, forgotten, left this minute\'s hash')
    t.same(Object.keys(await client.hgetall(`push:events:camera:minute_recognitions:${minuteOf(after)}`)).sort(), ['a', 'c'])
  }
  const views = await new ClusterEventStatistics(client).collectViews([CameraScope.of(['a']), CameraScope.of(['b']), CameraScope.ALL])
  t.equal(countedBetween(seriesIn(views.get('a') ?? {}), before, after), 2)
  t.equal(sum(seriesIn(views.get('b') ?? {}).events), 0, 'a forgotten camera counts in no scoped series')
  t.equal(countedBetween(seriesIn(views.get('*') ?? {}), before, after), 4, 'the service-wide series counts every camera')
})
