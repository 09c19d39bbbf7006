import t from 'tap'
import { connect, publishEvent, token } from '../helper.js'
import { NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'
import { getStatistics, nextStatistics } from '../stats/views-helper.js'
import type { ListedCamera } from '../../src/stats/sources/camera-staleness.js'

function staleOf (data: Record<string, unknown>): Record<string, boolean> {
  return Object.fromEntries(((data.cameras ?? []) as ListedCamera[]).map(camera => [camera.camera_id, camera.stale]))
}

t.test('with Redis: a camera published on A turns stale on B, in the unscoped and the scoped view', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const settings = { STATS_INTERVAL_MS: 200, INSTANCE_LEASE_MS: 1000, CAMERA_STALE_MS: 1500 }
  const a = await startInstance(t, redis, settings)
  const b = await startInstance(t, redis, settings)
  const boss = await connect(b, t, 'boss')
  const guard = await connect(b, t, 'guard', { cameras: ['site-a/*'] })
  t.equal((await publishEvent(a, { camera_id: 'site-a/cam1', event_type: 'motion_detected' })).status, 202)
  t.equal((await publishEvent(a, { camera_id: 'site-b/cam1', event_type: 'motion_detected' })).status, 202)

  const fresh = await nextStatistics(boss, data => data.events_total === 2)
  t.equal(fresh.camera_stale_ms, 1500)
  const stale = await nextStatistics(boss, data => Object.values(staleOf(data)).every(flag => flag))
  t.same(staleOf(stale), { 'site-a/cam1': true, 'site-b/cam1': true }, 'pushed once they turned stale')

  const scoped = await nextStatistics(guard, data => staleOf(data)['site-a/cam1'] === true)
  t.same(staleOf(scoped), { 'site-a/cam1': true }, 'the scoped view marks its cameras only')
  t.same(staleOf(await getStatistics(a, token('guard', { cameras: ['site-a/*'] }))), { 'site-a/cam1': true }, 'the polling endpoint too')
})
