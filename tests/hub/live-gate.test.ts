import t from 'tap'
import { LiveGate } from '../../src/hub/live-gate.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'

const event = (seq: number): SequencedMessage => ({ type: 'camera_event', timestamp: new Date(0).toISOString(), seq, camera_id: 'c', event_type: 'e', data: {} })

t.test('release returns what was held, in order, without what the replay covered', async t => {
  const gate = new LiveGate({ limit: 10, onOverflow: () => false })
  const frame = Buffer.from('{"type":"statistics_update"}')
  for (const item of [event(4), frame, event(5), event(6)]) t.ok(gate.hold(item))
  const released = gate.release(5)
  t.same(released, [frame, event(6)], 'seq 4 and 5 were replayed already; the statistics frame stays in its place')
  t.equal(gate.size, 0)
})

t.test('at the limit the owner decides: release (the hub sends) or drop (the owner closes)', async t => {
  let overflows = 0
  const releasing = new LiveGate({ limit: 2, onOverflow: () => { overflows++; return true } })
  t.ok(releasing.hold(event(1)))
  t.ok(releasing.hold(event(2)))
  t.notOk(releasing.hold(event(3)), 'released: the caller sends it')
  t.equal(overflows, 1)

  const closing = new LiveGate({ limit: 1, onOverflow: () => { overflows++; return false } })
  t.ok(closing.hold(event(1)))
  t.ok(closing.hold(event(2)), 'dropped: the connection is being closed')
  t.ok(closing.hold(event(3)), 'and everything after it')
  t.equal(overflows, 2, 'the owner is told once')
  t.equal(closing.size, 1, 'memory stays bounded')
})

t.test('the owner takes slices in order while newer items wait behind them; an opened gate holds nothing', async t => {
  const gate = new LiveGate({ limit: 10, onOverflow: () => false })
  for (const seq of [1, 2, 3, 4]) gate.hold(event(seq))
  t.same(gate.take(2, 1), [event(2)], 'the oldest two, without what was covered')
  t.ok(gate.hold(event(5)), 'still closed while the owner sends: held behind the rest')
  t.same(gate.take(10, 1), [event(3), event(4), event(5)])
  gate.open()
  t.notOk(gate.hold(event(6)), 'open: the hub sends it itself')
  t.equal(gate.size, 0)
})
