import t from 'tap'
import { encode } from '../../src/protocol/codec.js'
import { LiveConnectionCounts } from '../../src/stats/live-counts.js'

/**
 * The greeting's counts are spliced into the encoded snapshot rather than
 * re-encoding it: the result must be exactly the snapshot with the two
 * counts replaced, whatever else the snapshot holds.
 */

const snapshot = {
  type: 'statistics_update' as const,
  timestamp: '2026-11-30T12:00:00.000Z',
  data: {
    events_total: 7,
    // Text that looks like the counts must not be touched.
    upstream: { note: 'total_connections: 99, "total_users": 98', nested: [{ total_connections: 5 }] },
    total_connections: 10,
    total_users: 4,
    cameras: [{ camera_id: 'cam "1"', last_event_at: '2026-11-30T11:59:00.000Z', events_today: 3, stale: false }]
  }
}

t.test('a frame brought up to date is the snapshot with the two counts replaced', async t => {
  const local = { size: 0, userCount: 0 }
  const live = new LiveConnectionCounts(local)
  live.received({})
  const frame = encode(snapshot)
  t.equal(live.current(frame), frame, 'unchanged counts: the same buffer')
  local.size = 3
  local.userCount = 1
  const out = live.current(frame)
  t.same(JSON.parse(out.toString()), { ...snapshot, data: { ...snapshot.data, total_connections: 13, total_users: 5 } })
  t.equal(live.current(frame), out, 'asked again with the same counts: the same buffer, not built again')
  local.size = -20
  t.equal((JSON.parse(live.current(frame).toString()) as typeof snapshot).data.total_connections, 0, 'never below 0')
})

t.test('a frame whose data carries the splice marks themselves is sent as it is', async t => {
  const local = { size: 0, userCount: 0 }
  const live = new LiveConnectionCounts(local)
  live.received({})
  const frame = encode({ ...snapshot, data: { ...snapshot.data, upstream: { odd: '\u0000total_connections' } } })
  local.size = 1
  t.equal(live.current(frame), frame)
  const noCounts = encode({ ...snapshot, data: { events_total: 1 } } as never)
  t.equal(live.current(noCounts), noCounts, 'a frame without counts is left alone')
})
