import t from 'tap'
import { OutboundFrame } from '../../src/hub/outbound-frame.js'

t.test('a frame is a camera event or alert unless it says it is a snapshot', async t => {
  const frame = new OutboundFrame(Buffer.from('{"type":"alert"}'))
  t.equal(frame.payload.toString(), '{"type":"alert"}')
  t.equal(frame.supersedable, false)
  t.equal(frame.parts, null)
  t.equal(frame.wire, undefined, 'no wire form until a transport writes it')
  t.equal(new OutboundFrame(Buffer.from('{}'), true).supersedable, true)
})

t.test('a combined frame keeps its parts in order, has no payload of its own, and is never superseded', async t => {
  const a = new OutboundFrame(Buffer.from('a'), true)
  const b = new OutboundFrame(Buffer.from('b'))
  const combined = OutboundFrame.combine([a, b])
  t.same(combined.parts, [a, b])
  t.equal(combined.parts?.[0], a, 'the very same frames, so their wire forms are shared')
  t.equal(combined.payload.length, 0)
  t.equal(combined.supersedable, false, 'even when a part is a snapshot: it carries messages that must arrive')
})

