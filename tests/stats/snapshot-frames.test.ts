import t from 'tap'
import { SnapshotFrames } from '../../src/stats/snapshot-frames.js'
import type { Snapshot } from '../../src/stats/collector.js'

class RecordingLogger {
  readonly warnings: string[] = []
  readonly infos: string[] = []
  warn (_obj: object, msg: string): void { this.warnings.push(msg) }
  info (_obj: object, msg: string): void { this.infos.push(msg) }
}

function setup (): { frames: SnapshotFrames, pushed: Buffer[], logger: RecordingLogger } {
  const pushed: Buffer[] = []
  const logger = new RecordingLogger()
  return { frames: new SnapshotFrames(frame => { pushed.push(frame) }, logger), pushed, logger }
}

const snapshot = (second: number, data: Record<string, unknown>): Snapshot =>
  ({ timestamp: `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z`, data })

/** Data JSON cannot encode. */
const unencodable = (): Record<string, unknown> => ({ n: 1n })

t.test('before the first snapshot there is neither a snapshot nor a frame', async t => {
  const { frames, pushed } = setup()
  t.equal(frames.latest, null)
  t.equal(frames.frame, null)
  t.equal(pushed.length, 0)
})

t.test('the first snapshot is pushed as a statistics_update with its timestamp and data', async t => {
  const { frames, pushed } = setup()
  const first = snapshot(1, { events_total: 3 })
  frames.offer(first)
  t.equal(pushed.length, 1)
  t.same(JSON.parse(pushed[0].toString()), { type: 'statistics_update', timestamp: first.timestamp, data: { events_total: 3 } })
  t.equal(frames.frame, pushed[0], 'a new connection gets the very bytes pushed')
  t.equal(frames.latest, first)
})

t.test('a snapshot with the same data is not pushed, but is the latest for polling', async t => {
  const { frames, pushed } = setup()
  frames.offer(snapshot(1, { events_total: 3 }))
  const later = snapshot(2, { events_total: 3 })
  frames.offer(later)
  t.equal(pushed.length, 1)
  t.equal(frames.latest, later)
  t.match(JSON.parse(frames.frame!.toString()), { timestamp: '2026-01-01T00:00:01.000Z' }, 'the frame stays the one pushed')
})

t.test('changed data is pushed, and so is a return to earlier data', async t => {
  const { frames, pushed } = setup()
  frames.offer(snapshot(1, { n: 1 }))
  frames.offer(snapshot(2, { n: 2 }))
  frames.offer(snapshot(3, { n: 1 }))
  t.same(pushed.map(frame => JSON.parse(frame.toString()).data.n), [1, 2, 1])
})

t.test('a snapshot that cannot be encoded is skipped: nothing pushed, and the last good one is still served', async t => {
  const { frames, pushed } = setup()
  const good = snapshot(1, { n: 1 })
  frames.offer(good)
  t.doesNotThrow(() => { frames.offer(snapshot(2, unencodable())) })
  t.equal(pushed.length, 1)
  t.equal(frames.latest, good, 'what /api/statistics serves can still be serialized')
  t.doesNotThrow(() => JSON.stringify(frames.latest))
})

t.test('an unencodable first snapshot leaves nothing to serve', async t => {
  const { frames, pushed } = setup()
  frames.offer(snapshot(1, unencodable()))
  t.equal(frames.latest, null)
  t.equal(frames.frame, null)
  t.equal(pushed.length, 0)
})

t.test('a run of unencodable snapshots warns once; the next good one is pushed and logged as recovered', async t => {
  const { frames, pushed, logger } = setup()
  frames.offer(snapshot(1, unencodable()))
  frames.offer(snapshot(2, unencodable()))
  t.same(logger.warnings, ['statistics snapshot could not be encoded; dashboards keep the last one'])
  frames.offer(snapshot(3, { n: 1 }))
  t.equal(pushed.length, 1)
  t.same(logger.infos, ['statistics snapshots can be encoded again'])
  frames.offer(snapshot(4, unencodable()))
  t.equal(logger.warnings.length, 2, 'a new outage warns again')
})

t.test('too deep data is skipped like any unencodable snapshot', async t => {
  const { frames, pushed } = setup()
  let deep: unknown[] = []
  for (let i = 0; i < 100_000; i++) deep = [deep]
  frames.offer(snapshot(1, { deep }))
  t.equal(pushed.length, 0)
})
