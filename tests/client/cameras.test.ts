import t from 'tap'
import {
  describeFilter, EVERYTHING, filterOfAnswer, filterSteps, formatSilence, isStale, MAX_CAMERA_ROWS, readCameras, sameFilter, silentMs
} from '../../public/lib/cameras.js'

const AT = '2026-03-01T12:00:00.000Z'

t.test('reads data.cameras busiest first, skipping malformed rows, with the threshold', async t => {
  const snapshot = readCameras({
    camera_stale_ms: 300_000,
    cameras: [
      { camera_id: 'quiet', last_event_at: '2026-03-01T11:59:59.000Z', events_today: 1, stale: false },
      { camera_id: 'busy', last_event_at: '2026-03-01T11:50:00.000Z', events_today: 40, stale: true },
      { camera_id: 'tie-b', last_event_at: '2026-03-01T11:58:00.000Z', events_today: 5 },
      { camera_id: 'tie-a', last_event_at: '2026-03-01T11:58:00.000Z', events_today: 5 },
      { camera_id: 'newer', last_event_at: '2026-03-01T11:59:00.000Z', events_today: 5 },
      { camera_id: 'no time', last_event_at: 'yesterday', events_today: 3 },
      { last_event_at: AT },
      null,
      'cam'
    ]
  }, AT)
  t.same(snapshot.rows.map(row => row.id), ['busy', 'newer', 'tie-a', 'tie-b', 'quiet'], 'by today\'s count, then the most recent, then id')
  t.equal(snapshot.staleMs, 300_000)
  t.equal(snapshot.at, Date.parse(AT))
  t.same(snapshot.rows.map(row => row.stale), [true, false, false, false, false], 'the service\'s flag, false when absent')
  t.same(readCameras({}, AT), { rows: [], staleMs: null, at: Date.parse(AT) }, 'a snapshot without a list')
  const many = Array.from({ length: 80 }, (_, i) => ({ camera_id: `cam-${i}`, last_event_at: AT, events_today: i }))
  t.equal(readCameras({ cameras: many }, AT).rows.length, MAX_CAMERA_ROWS, 'a longer list is cut')
})

t.test('staleness between snapshots: from the snapshot\'s time plus the time since it arrived, not the page\'s clock', async t => {
  const snapshot = readCameras({ camera_stale_ms: 60_000, cameras: [{ camera_id: 'c', last_event_at: '2026-03-01T11:59:30.000Z', events_today: 1, stale: false }] }, AT)
  const row = snapshot.rows[0]
  t.equal(silentMs(row, snapshot, 0), 30_000)
  t.notOk(isStale(row, snapshot, 30_000), 'exactly the threshold is not stale')
  t.ok(isStale(row, snapshot, 30_001), 'past it the page marks it before the next snapshot')
  t.ok(isStale({ ...row, stale: true }, snapshot, 0), 'the service\'s word stands')
  const unknown = readCameras({ cameras: [{ camera_id: 'c', last_event_at: '2026-03-01T11:00:00.000Z', events_today: 1 }] }, AT)
  t.notOk(isStale(unknown.rows[0], unknown, 0), 'without a threshold only the service decides')
  t.same([formatSilence(45_000), formatSilence(6 * 60_000 + 5000), formatSilence(125 * 60_000), formatSilence(120 * 60_000)], ['45 s', '6 min', '2 h 5 min', '2 h'])
})

t.test('the filter becomes subscribe / unsubscribe steps: switching cameras never lets another camera through', async t => {
  t.same(filterSteps(EVERYTHING, { camera: 'lobby', alertsOnly: false }), [{ method: 'subscribe', eventTypes: [], cameraIds: ['lobby'] }])
  t.same(filterSteps({ camera: 'lobby', alertsOnly: false }, { camera: 'gate', alertsOnly: false }), [
    { method: 'unsubscribe', eventTypes: [], cameraIds: ['lobby'] },
    { method: 'subscribe', eventTypes: [], cameraIds: ['gate'] }
  ])
  t.same(filterSteps({ camera: 'gate', alertsOnly: true }, EVERYTHING), [
    { method: 'subscribe', eventTypes: [], cameraIds: null },
    { method: 'subscribe', eventTypes: ['camera_event'] }
  ])
  t.same(filterSteps(EVERYTHING, { camera: null, alertsOnly: true }), [{ method: 'unsubscribe', eventTypes: ['camera_event'] }])
  t.same(filterSteps(EVERYTHING, EVERYTHING), [])
})

t.test('the service\'s subscribed answer confirms the filter, or not', async t => {
  t.same(filterOfAnswer({ event_types: ['camera_event', 'alert'], camera_ids: null }), EVERYTHING)
  t.same(filterOfAnswer({ event_types: ['alert', 'camera_event', 'presence'], camera_ids: ['lobby'] }), { camera: 'lobby', alertsOnly: false })
  t.same(filterOfAnswer({ event_types: ['alert'], camera_ids: null }), { camera: null, alertsOnly: true })
  t.equal(filterOfAnswer({ event_types: ['camera_event', 'alert'], camera_ids: [] }), null, 'between an unsubscribe and a subscribe')
  t.equal(filterOfAnswer({ event_types: ['camera_event'], camera_ids: null }), null, 'alerts are never filtered out by the page')
  t.ok(sameFilter(filterOfAnswer({ event_types: ['camera_event', 'alert'], camera_ids: ['lobby'] }), { camera: 'lobby', alertsOnly: false }))
  t.notOk(sameFilter(null, EVERYTHING))
  t.equal(describeFilter({ camera: 'lobby', alertsOnly: true }), 'lobby only · alerts only')
  t.equal(describeFilter(EVERYTHING), 'Every camera · events and alerts')
})

t.test('an event type filter goes through camera_event_types, combined with the camera filter', async t => {
  t.same(filterSteps(EVERYTHING, { camera: null, alertsOnly: false, eventType: 'motion' }), [{ method: 'subscribe', eventTypes: [], cameraEventTypes: ['motion'] }])
  t.same(filterSteps({ camera: 'lobby', alertsOnly: false, eventType: 'motion' }, { camera: 'lobby', alertsOnly: false, eventType: 'face' }), [
    { method: 'unsubscribe', eventTypes: [], cameraEventTypes: ['motion'] },
    { method: 'subscribe', eventTypes: [], cameraEventTypes: ['face'] }
  ], 'switching types never lets another type through')
  t.same(filterSteps({ camera: 'lobby', alertsOnly: false, eventType: 'motion' }, EVERYTHING), [
    { method: 'subscribe', eventTypes: [], cameraIds: null },
    { method: 'subscribe', eventTypes: [], cameraEventTypes: null }
  ])
  t.same(filterOfAnswer({ event_types: ['camera_event', 'alert'], camera_ids: ['lobby'], camera_event_types: ['motion'] }), { camera: 'lobby', alertsOnly: false, eventType: 'motion' })
  t.same(filterOfAnswer({ event_types: ['camera_event', 'alert'], camera_ids: null, camera_event_types: null }), EVERYTHING)
  t.equal(filterOfAnswer({ event_types: ['camera_event', 'alert'], camera_ids: null, camera_event_types: [] }), null, 'between an unsubscribe and a subscribe')
  t.notOk(sameFilter(filterOfAnswer({ event_types: ['camera_event', 'alert'], camera_ids: null, camera_event_types: ['face'] }), { camera: null, alertsOnly: false, eventType: 'motion' }))
  t.ok(sameFilter(filterOfAnswer({ event_types: ['camera_event', 'alert'], camera_ids: null, camera_event_types: ['motion'] }), { camera: null, alertsOnly: false, eventType: 'motion' }))
  t.equal(describeFilter({ camera: 'lobby', alertsOnly: false, eventType: 'motion_detected' }), 'lobby only · Motion detected events and alerts')
  t.equal(describeFilter({ camera: null, alertsOnly: true, eventType: 'motion_detected' }), 'Every camera · alerts only (Motion detected events when shown)')
})
