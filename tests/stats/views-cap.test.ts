import t from 'tap'
import { CameraScope } from '../../src/protocol/camera-scope.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'
import { EventStatistics } from '../../src/stats/sources/events.js'
import { StatisticsViews } from '../../src/stats/views.js'

interface Pushed { data: Record<string, unknown>, forScope: ((key: string) => boolean) | undefined }

/** Views over real event counters; `pushed` is what the hub would have been asked to broadcast. */
function setup (scopes: CameraScope[], maxViews = 1000): { views: StatisticsViews, events: EventStatistics, pushed: Pushed[], scopes: CameraScope[] } {
  const events = new EventStatistics()
  const pushed: Pushed[] = []
  const logger = { warn () {}, info () {} }
  const views = new StatisticsViews({
    events,
    push: (frame, forScope) => { pushed.push({ data: (JSON.parse(frame.toString()) as { data: Record<string, unknown> }).data, forScope }) },
    scopes: () => scopes,
    maxViews,
    logger
  })
  return { views, events, pushed, scopes }
}

function record (events: EventStatistics, seq: number, camera: string): void {
  events.record({ type: 'camera_event', seq, camera_id: camera, event_type: 'motion_detected', timestamp: new Date().toISOString(), data: {} } as unknown as SequencedMessage)
}

async function settle (views: StatisticsViews): Promise<void> {
  // A scoped snapshot is computed asynchronously; asking for one waits for the run in progress.
  await views.snapshotFor(CameraScope.of(['__settle__']))
}

t.test('nobody scoped: one frame for everyone, pushed only when it changed, no view computed', async t => {
  const { views, events, pushed } = setup([CameraScope.ALL, CameraScope.ALL])
  record(events, 1, 'cam')
  views.offer({ timestamp: 't1', data: { ...events.collect(), total_connections: 2 } })
  views.offer({ timestamp: 't2', data: { ...events.collect(), total_connections: 2 } })
  t.equal(pushed.length, 1, 'the unchanged second snapshot is not pushed')
  t.equal(pushed[0].forScope, undefined, 'one broadcast to every connection, as before views')
  t.equal(views.size, 0)
  t.equal(views.computations, 0)
})

t.test('past the cap, new scopes share the overflow view: connection counts, no camera counts', async t => {
  const siteA = CameraScope.of(['site-a/*'])
  const siteB = CameraScope.of(['site-b/*'])
  const { views, events, pushed } = setup([CameraScope.ALL, siteA, siteB], 1)
  record(events, 1, 'site-a/cam1')
  record(events, 2, 'site-b/cam1')
  views.offer({ timestamp: 't1', data: { ...events.collect(), total_connections: 3 } })
  await settle(views)
  const unscoped = pushed.find(p => p.data.events_total === 2)
  t.ok(unscoped?.forScope?.('*'), 'the service-wide frame goes to unscoped connections')
  t.notOk(unscoped?.forScope?.(siteA.key), 'and to no scoped one')
  t.notOk(unscoped?.forScope?.(siteB.key))
  const ofA = pushed.find(p => p.forScope?.(siteA.key) === true && p.forScope?.(siteB.key) === false)
  t.match(ofA?.data, { events_total: 1, total_connections: 3 })
  const overflow = pushed.find(p => p.forScope?.(siteB.key) === true)
  t.match(overflow?.data, { events_total: 0, last_recognition: null, active_cameras: 0, total_connections: 3 }, 'the overflow view admits no camera')
  t.notOk(overflow?.forScope?.('*'))
  t.notOk(overflow?.forScope?.(siteA.key), 'a scope with a view of its own does not get the overflow frame')
})
