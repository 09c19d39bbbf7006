import t from 'tap'
import { CameraScope } from '../../src/protocol/camera-scope.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'
import { EventStatistics } from '../../src/stats/sources/events.js'
import { markStaleCameras, StaleCameraMarks, type ListedCamera } from '../../src/stats/sources/camera-staleness.js'
import { connect, publishEvent, startServer, token } from '../helper.js'
import { getStatistics, nextStatistics } from './views-helper.js'

function event (camera: string, at: number): SequencedMessage {
  return { type: 'camera_event', seq: 1, camera_id: camera, event_type: 'motion', timestamp: new Date(at).toISOString(), data: {} } as unknown as SequencedMessage
}

function staleOf (data: Record<string, unknown> | undefined): Record<string, boolean> {
  return Object.fromEntries(((data?.cameras ?? []) as ListedCamera[]).map(camera => [camera.camera_id, camera.stale]))
}

t.test('a camera silent for longer than the threshold is marked stale; the threshold travels with the data', async t => {
  const data = {
    events_total: 3,
    cameras: [
      { camera_id: 'busy', last_event_at: '2026-03-01T12:00:00.000Z', events_today: 2 },
      { camera_id: 'edge', last_event_at: '2026-03-01T11:55:00.000Z', events_today: 1 },
      { camera_id: 'silent', last_event_at: '2026-03-01T11:54:59.999Z', events_today: 1 }
    ]
  }
  const marked = markStaleCameras(data, Date.parse('2026-03-01T12:00:00Z'), 300_000)
  t.equal(marked.camera_stale_ms, 300_000)
  t.equal(marked.events_total, 3, 'the rest of the data stays')
  t.same(staleOf(marked), { busy: false, edge: false, silent: true }, 'exactly the threshold is not yet stale; past it is')
  t.same(markStaleCameras({ events_total: 0 }, 0, 1000), { events_total: 0, camera_stale_ms: 1000 }, 'no list, only the threshold')
})

t.test('the wrapped source marks the unscoped view and every scoped view at the time of gathering', async t => {
  let clock = Date.parse('2026-03-01T12:00:00Z')
  const events = new EventStatistics(() => clock)
  const marks = new StaleCameraMarks(events, 60_000, () => clock)
  t.equal(marks.name, 'events', 'the collector knows it by the source\'s name')
  events.record(event('site-a/cam1', clock))
  clock += 30_000
  events.record(event('site-b/cam1', clock))
  t.same(staleOf(await marks.collect()), { 'site-a/cam1': false, 'site-b/cam1': false })
  clock += 40_000
  t.same(staleOf(await marks.collect()), { 'site-a/cam1': true, 'site-b/cam1': false })
  const siteA = CameraScope.of(['site-a/*'])
  const views = await marks.collectViews([siteA, CameraScope.ALL])
  t.same(staleOf(views.get(siteA.key)), { 'site-a/cam1': true })
  t.equal(views.get(siteA.key)?.camera_stale_ms, 60_000)
  t.same(staleOf(views.get('*')), { 'site-a/cam1': true, 'site-b/cam1': false })
})

t.test('in memory: a camera turning stale is pushed although nothing else changed', async t => {
  const server = await startServer(t, { STATS_INTERVAL_MS: 100, CAMERA_STALE_MS: 1500 })
  const boss = await connect(server, t, 'boss')
  t.equal((await publishEvent(server, { camera_id: 'gate-1', event_type: 'motion_detected' })).status, 202)
  const fresh = await nextStatistics(boss, data => staleOf(data)['gate-1'] === false)
  t.equal(fresh.camera_stale_ms, 1500, 'the snapshot says the threshold')
  // No event follows: only the flag can change the snapshot, and it must still arrive.
  const stale = await nextStatistics(boss, data => staleOf(data)['gate-1'] === true)
  t.equal(stale.events_total, 1)
  const polled = await getStatistics(server, token('poller'))
  t.same(staleOf(polled), { 'gate-1': true }, 'GET /api/statistics too')
  t.equal(polled.camera_stale_ms, 1500)
})
