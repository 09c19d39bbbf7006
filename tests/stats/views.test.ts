import t from 'tap'
import { CameraScope } from '../../src/protocol/camera-scope.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'
import { EventStatistics } from '../../src/stats/sources/events.js'
import { connect, publishEvent, startServer, token, waitFor } from '../helper.js'
import { getStatistics, namesSeen, nextStatistics, scopeMembers, serviceReadsCameraClaim, SITE_A_VIEW, SITE_EVENTS } from './views-helper.js'

const INTERVAL = { STATS_INTERVAL_MS: 100 }

function cameraEvent (seq: number, camera: string, type = 'motion_detected', person?: string): SequencedMessage {
  return {
    type: 'camera_event', seq, camera_id: camera, event_type: type, timestamp: new Date().toISOString(), data: person === undefined ? {} : { person_name: person }
  } as unknown as SequencedMessage
}

t.test('per-camera counts: a view sums only the cameras its scope admits', async t => {
  const events = new EventStatistics()
  events.record(cameraEvent(1, 'site-a/cam1'))
  events.record(cameraEvent(2, 'site-a/cam2', 'face_recognized', 'Ann'))
  events.record(cameraEvent(3, 'site-b/cam1', 'face_recognized', 'Bob'))
  const siteA = CameraScope.of(['site-a/*'])
  const lobby = CameraScope.of(['lobby-1'])
  const views = await events.collectViews([siteA, lobby, CameraScope.ALL])
  t.match(views.get(siteA.key), { ...SITE_A_VIEW, events_by_type: { motion_detected: 1, face_recognized: 1 } })
  const { series, ...lobbyCounts } = views.get(lobby.key) ?? {}
  t.same(lobbyCounts, { events_total: 0, events_today: 0, recognitions_today: 0, last_recognition: null, active_cameras: 0, events_by_type: {}, cameras: [] }, 'a scope with no camera seen counts nothing')
  t.match(series, { events: new Array(60).fill(0), recognitions: new Array(60).fill(0) }, 'and its series is all zeros')
  t.same(views.get('*'), events.collect(), 'the unscoped view is the service-wide counters')
  t.match(views.get('*'), { events_total: 3, last_recognition: { person_name: 'Bob' } })
})

t.test('per-camera counts are capped: the camera seen longest ago is forgotten', async t => {
  const events = new EventStatistics(Date.now, 2)
  events.record(cameraEvent(1, 'a'))
  events.record(cameraEvent(2, 'b'))
  events.record(cameraEvent(3, 'a'))
  events.record(cameraEvent(4, 'c'))
  const views = await events.collectViews([CameraScope.of(['a']), CameraScope.of(['b']), CameraScope.of(['c'])])
  t.equal(views.get('a')?.events_total, 2)
  t.equal(views.get('b')?.events_total, 0, 'b was the oldest when c came')
  t.equal(views.get('c')?.events_total, 1)
  t.equal(events.collect().events_total, 4, 'the service-wide counters still count everything')
})

t.test('a site-a/* connection gets site-a counts only; an unscoped one gets what it always did', async t => {
  const server = await startServer(t, INTERVAL)
  const everyone = await connect(server, t, 'boss')
  const guard = await connect(server, t, 'guard')
  t.equal(scopeMembers(server, 'guard', ['site-a/*']), 1)
  for (const event of SITE_EVENTS) t.equal((await publishEvent(server, event)).status, 202)

  const scoped = await nextStatistics(guard, data => data.events_total === 2)
  t.match(scoped, SITE_A_VIEW)
  t.same(scoped.events_by_type, SITE_A_VIEW.events_by_type)
  t.equal(scoped.total_connections, 2, 'connection counts stay service-wide')
  t.equal(scoped.total_users, 2)
  const all = await nextStatistics(everyone, data => data.events_total === 4)
  t.match(all, { events_today: 4, recognitions_today: 2, active_cameras: 3, last_recognition: { person_name: 'Bob', camera_id: 'site-b/cam1' } })
  t.same(all.events_by_type, { motion_detected: 2, face_recognized: 2 })

  // One more interval: the guard's view is pushed again only if it changed, and never names Bob.
  await publishEvent(server, { camera_id: 'site-a/cam1', event_type: 'motion_detected', data: {} })
  await nextStatistics(guard, data => data.events_total === 3)
  t.notOk(namesSeen(guard).includes('Bob'), 'the guard never hears of a person seen on site-b')
  t.notOk(guard.messages.some(m => m.type === 'statistics_update' && (m.data as { events_total: number }).events_total >= 4), 'the guard never gets the service-wide counts after being scoped')
})

t.test('GET /api/statistics answers the caller\'s view', async t => {
  const server = await startServer(t, INTERVAL)
  for (const event of SITE_EVENTS) t.equal((await publishEvent(server, event)).status, 202)
  await waitFor(() => (server.app.statisticsViews.latest?.data.events_total ?? 0) === 4, 'the service-wide snapshot')
  const scoped = await getStatistics(server, token('guard', { cameras: ['site-a/*'] }))
  t.match(scoped, SITE_A_VIEW)
  const unscoped = await getStatistics(server, token('boss'))
  t.match(unscoped, { events_total: 4, last_recognition: { person_name: 'Bob' } })
  const nothing = await getStatistics(server, token('nobody', { cameras: ['lobby-9'] }))
  t.match(nothing, { events_total: 0, last_recognition: null })
})

t.test('connections that share a scope share one view; the view goes when its last connection does', async t => {
  const server = await startServer(t, INTERVAL)
  const views = server.app.statisticsViews
  await connect(server, t, 'boss')
  t.equal(views.size, 0, 'unscoped connections need no view of their own')
  const first = await connect(server, t, 'guard-1')
  const second = await connect(server, t, 'guard-2')
  scopeMembers(server, 'guard-1', ['site-a/*', 'lobby-1'])
  scopeMembers(server, 'guard-2', ['lobby-1', 'site-a/*'])
  await publishEvent(server, SITE_EVENTS[0])
  await nextStatistics(first, data => data.events_total === 1)
  await nextStatistics(second, data => data.events_total === 1)
  t.equal(views.size, 1, 'one view for two connections of the same scope (entries in any order)')
  const before = views.computations
  await publishEvent(server, SITE_EVENTS[1])
  await nextStatistics(first, data => data.events_total === 2)
  await nextStatistics(second, data => data.events_total === 2)
  t.ok(views.computations > before, 'the view was computed again')
  const scraped = await (await fetch(`${server.url}/metrics`)).text()
  t.match(scraped, /^push_statistics_views 1$/m, 'the view count is a metric')
  t.match(scraped, /^push_statistics_view_computations_total \d+$/m)

  const other = await connect(server, t, 'guard-3')
  scopeMembers(server, 'guard-3', ['site-b/*'])
  await publishEvent(server, SITE_EVENTS[2])
  await nextStatistics(other, data => data.events_total === 1)
  t.equal(views.size, 2)

  first.ws.close()
  second.ws.close()
  await waitFor(() => views.size === 1, 'the site-a view dropped after its last connection left')
})

t.test('the service reads the cameras claim: a scoped token\'s connection gets its view', async t => {
  const server = await startServer(t, INTERVAL)
  t.ok(serviceReadsCameraClaim(server), 'the service reads the cameras claim')
  const guard = await connect(server, t, 'guard', { cameras: ['site-a/*'] })
  for (const event of SITE_EVENTS) await publishEvent(server, event)
  t.match(await nextStatistics(guard, data => data.events_total === 2), SITE_A_VIEW)
  t.match(await getStatistics(server, token('guard', { cameras: ['site-a/*'] })), SITE_A_VIEW)
  t.notOk(namesSeen(guard).includes('Bob'))
})
