import t from 'tap'
import { ACTIVE_CAMERA_WINDOW_MS, EventStatistics, utcDay } from '../../src/stats/sources/events.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'

/** Event statistics on a hand-driven clock. */
function statsAt (iso: string): { stats: EventStatistics, advance: (ms: number) => void, event: (camera: string, type?: string, data?: Record<string, unknown>) => SequencedMessage } {
  let clock = Date.parse(iso)
  const stats = new EventStatistics(() => clock)
  return {
    stats,
    advance: ms => { clock += ms },
    event: (camera, type = 'motion', data = {}) => ({ type: 'camera_event', timestamp: new Date(clock).toISOString(), seq: 1, camera_id: camera, event_type: type, data })
  }
}

t.test('event statistics count per UTC day and forget idle cameras', async t => {
  let clock = Date.parse('2026-03-01T23:59:00Z')
  const stats = new EventStatistics(() => clock)
  const event = (camera: string, type: string, data: Record<string, unknown> = {}) =>
    ({ type: 'camera_event' as const, timestamp: new Date(clock).toISOString(), seq: 1, camera_id: camera, event_type: type, data })
  stats.record(event('cam_1', 'face_recognized', { person_name: 'Ada' }))
  stats.record(event('cam_2', 'motion'))
  t.match(stats.collect(), { events_total: 2, events_today: 2, recognitions_today: 1, active_cameras: 2, last_recognition: { person_name: 'Ada', camera_id: 'cam_1' } })
  clock += 2 * 60_000 // past midnight UTC
  stats.record(event('cam_2', 'motion'))
  t.match(stats.collect(), { events_total: 3, events_today: 1, recognitions_today: 0, active_cameras: 2, events_by_type: { face_recognized: 1, motion: 2 } })
  clock += 4 * 60_000 // cam_1 silent for 6 minutes, cam_2 for 4
  t.equal(stats.collect().active_cameras, 1)
})

t.test('before any event every counter is zero', async t => {
  const { stats } = statsAt('2026-03-01T12:00:00Z')
  const zeros = new Array(60).fill(0)
  t.same(stats.collect(), {
    events_total: 0,
    events_today: 0,
    recognitions_today: 0,
    last_recognition: null,
    active_cameras: 0,
    events_by_type: {},
    series: { minute_start: '2026-03-01T11:01:00.000Z', events: zeros, recognitions: zeros },
    cameras: []
  })
  t.equal(stats.name, 'events')
})

t.test('alerts are not camera events and count nowhere', async t => {
  const { stats } = statsAt('2026-03-01T12:00:00Z')
  stats.record({ type: 'alert', timestamp: '2026-03-01T12:00:00.000Z', seq: 1, level: 'critical', message: 'm', data: {} })
  t.match(stats.collect(), { events_total: 0, events_today: 0, active_cameras: 0 })
})

t.test('the last recognition is the newest, and a name that is not a string is null', async t => {
  const { stats, event, advance } = statsAt('2026-03-01T12:00:00Z')
  stats.record(event('cam_1', 'face_recognized', { person_name: 'Ada' }))
  advance(1000)
  stats.record(event('cam_2', 'face_recognized', { person_name: 42 }))
  t.same(stats.collect().last_recognition, { person_name: null, camera_id: 'cam_2', timestamp: '2026-03-01T12:00:01.000Z' })
  t.equal(stats.collect().recognitions_today, 2)
})

t.test('a day with no events after midnight still starts again at zero', async t => {
  const { stats, event, advance } = statsAt('2026-03-01T23:00:00Z')
  stats.record(event('cam_1', 'face_recognized', { person_name: 'Ada' }))
  advance(2 * 3600_000)
  t.match(stats.collect(), { events_total: 1, events_today: 0, recognitions_today: 0 })
  t.match(stats.collect().last_recognition, { person_name: 'Ada' }, 'the last recognition is kept across days')
})

t.test('a camera is active for exactly the window after its last event', async t => {
  const { stats, event, advance } = statsAt('2026-03-01T12:00:00Z')
  stats.record(event('cam_1'))
  advance(ACTIVE_CAMERA_WINDOW_MS)
  t.equal(stats.collect().active_cameras, 1, 'still active at the edge')
  advance(1)
  t.equal(stats.collect().active_cameras, 0)
})

t.test('a camera that reports again stays active while a quieter one expires', async t => {
  const { stats, event, advance } = statsAt('2026-03-01T12:00:00Z')
  stats.record(event('cam_1'))
  advance(1000)
  stats.record(event('cam_2'))
  advance(3 * 60_000)
  stats.record(event('cam_1'))
  advance(3 * 60_000) // cam_1 silent for 3 minutes, cam_2 for 6
  t.equal(stats.collect().active_cameras, 1)
})

t.test('at most 256 event types are counted by name; the rest are summed under other', async t => {
  const { stats, event } = statsAt('2026-03-01T12:00:00Z')
  for (let i = 0; i < 256; i++) stats.record(event('cam_1', `type_${i}`))
  stats.record(event('cam_1', 'one_too_many'))
  stats.record(event('cam_1', 'yet_another'))
  stats.record(event('cam_1', 'type_0'))
  const byType = stats.collect().events_by_type as Record<string, number>
  t.equal(Object.keys(byType).length, 257, '256 names and other')
  t.equal(byType.other, 2)
  t.equal(byType.type_0, 2, 'a type already counted keeps counting by name')
  t.notOk('one_too_many' in byType)
})

t.test('utcDay names the UTC day of a time, whatever the local zone', async t => {
  t.equal(utcDay(Date.parse('2026-03-01T23:59:59.999Z')), '2026-03-01')
  t.equal(utcDay(Date.parse('2026-03-02T00:30:00+01:00')), '2026-03-01')
})
