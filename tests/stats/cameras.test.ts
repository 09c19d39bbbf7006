import t from 'tap'
import { CameraScope } from '../../src/protocol/camera-scope.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'
import { EventStatistics } from '../../src/stats/sources/events.js'
import { MAX_LISTED_CAMERAS, type CameraActivity } from '../../src/stats/sources/camera-views.js'

function event (camera: string, at: number): SequencedMessage {
  return { type: 'camera_event', seq: 1, camera_id: camera, event_type: 'motion', timestamp: new Date(at).toISOString(), data: {} } as unknown as SequencedMessage
}

t.test('data.cameras: the 50 most recently active cameras, newest first, with their events of the day', async t => {
  let clock = Date.parse('2026-03-01T23:00:00Z')
  const stats = new EventStatistics(() => clock)
  stats.record(event('old', clock))
  clock += 60 * 60_000 + 1000 // past midnight UTC: "old" has no events today
  for (let i = 0; i < 60; i++) {
    stats.record(event(`cam-${i}`, clock))
    clock += 1000
  }
  stats.record(event('cam-59', clock))
  stats.record(event('cam-10', clock += 1000))
  const cameras = stats.collect().cameras as CameraActivity[]
  t.equal(cameras.length, MAX_LISTED_CAMERAS, 'bounded')
  t.same(cameras[0], { camera_id: 'cam-10', last_event_at: new Date(clock).toISOString(), events_today: 2 }, 'the camera heard last comes first')
  t.same(cameras[1], { camera_id: 'cam-59', last_event_at: new Date(clock - 1000).toISOString(), events_today: 2 }, 'counting today\'s events')
  for (let i = 1; i < cameras.length; i++) t.ok(cameras[i - 1].last_event_at >= cameras[i].last_event_at, `sorted at ${i}`)
  t.notOk(cameras.some(c => c.camera_id === 'old' || c.camera_id === 'cam-0'), 'the least recently active are left out')
})

t.test('data.cameras: a camera of another day counts 0 today; a scoped view lists only its cameras', async t => {
  let clock = Date.parse('2026-03-01T23:59:00Z')
  const stats = new EventStatistics(() => clock)
  stats.record(event('site-a/cam1', clock))
  stats.record(event('site-b/cam1', clock))
  clock += 2 * 60_000
  stats.record(event('site-b/cam1', clock))
  const siteA = CameraScope.of(['site-a/*'])
  const views = await stats.collectViews([siteA, CameraScope.of(['lobby']), CameraScope.ALL])
  t.same(views.get(siteA.key)?.cameras, [{ camera_id: 'site-a/cam1', last_event_at: '2026-03-01T23:59:00.000Z', events_today: 0 }])
  t.same(views.get('lobby')?.cameras, [])
  t.same(views.get('*')?.cameras, [
    { camera_id: 'site-b/cam1', last_event_at: '2026-03-02T00:01:00.000Z', events_today: 1 },
    { camera_id: 'site-a/cam1', last_event_at: '2026-03-01T23:59:00.000Z', events_today: 0 }
  ])
})
