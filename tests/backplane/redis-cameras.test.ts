import t from 'tap'
import { publishEvent, token } from '../helper.js'
import { NEEDS_REDIS } from '../redis.js'
import { clusterWithGuard, getStatistics, nextStatistics } from '../stats/views-helper.js'
import { MAX_LISTED_CAMERAS, type CameraActivity } from '../../src/stats/sources/camera-views.js'

/** The first place a list is out of activity order; -1 when sorted. */
function unsortedAt (cameras: CameraActivity[]): number {
  return cameras.findIndex((camera, i) => i > 0 && cameras[i - 1].last_event_at < camera.last_event_at)
}

t.test('data.cameras is cluster-wide: published on A, listed on B, bounded, by activity, scoped', { skip: NEEDS_REDIS }, async t => {
  const { a, b, guard, boss } = await clusterWithGuard(t)
  const total = MAX_LISTED_CAMERAS + 5
  for (let i = 0; i < total; i++) {
    t.equal((await publishEvent(a, { camera_id: `site-b/cam${i}`, event_type: 'motion_detected', data: {} })).status, 202)
  }
  for (let i = 0; i < 2; i++) await publishEvent(a, { camera_id: 'site-a/cam1', event_type: 'motion_detected', data: {} })

  const all = await nextStatistics(boss, data => data.events_total === total + 2)
  const cameras = all.cameras as CameraActivity[]
  t.equal(cameras.length, MAX_LISTED_CAMERAS, 'bounded')
  t.match(cameras[0], { camera_id: 'site-a/cam1', events_today: 2 }, 'the camera heard last comes first, with today\'s events')
  t.ok(Date.parse(cameras[0].last_event_at) > 0, 'with its last event time')
  t.equal(unsortedAt(cameras), -1, 'sorted by activity')
  t.notOk(cameras.some(c => c.camera_id === 'site-b/cam0'), 'the least recently active are left out')

  const scoped = await nextStatistics(guard, data => data.events_total === 2)
  t.same((scoped.cameras as CameraActivity[]).map(c => [c.camera_id, c.events_today]), [['site-a/cam1', 2]], 'a scoped view lists only its cameras')
  const polled = await getStatistics(b, token('guard', { cameras: ['site-a/*'] }))
  t.same((polled.cameras as CameraActivity[]).map(c => c.camera_id), ['site-a/cam1'], 'the polling endpoint too')
})
