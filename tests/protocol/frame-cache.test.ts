import t from 'tap'
import { frameOf, parsePayload, rememberFrame } from '../../src/protocol/frame-cache.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'

const event = (seq: number): SequencedMessage =>
  ({ type: 'camera_event', timestamp: '2026-01-01T00:00:00.000Z', seq, camera_id: 'cam_1', event_type: 'motion', data: { n: seq } })

t.test('a message that did not come from a bus is encoded as its JSON', async t => {
  const message = event(1)
  t.same(JSON.parse(frameOf(message).toString('utf8')), message)
})

t.test('a message is encoded once: every call answers the same Buffer', async t => {
  const message = event(2)
  t.equal(frameOf(message), frameOf(message))
})

t.test('a remembered frame is what every later caller gets, byte for byte', async t => {
  const message = event(3)
  const frame = Buffer.from('{"remembered":true}')
  rememberFrame(message, frame)
  t.equal(frameOf(message), frame, 'not encoded again')
})

t.test('frames belong to message objects: an equal but distinct message gets its own', async t => {
  const a = event(4)
  const b = event(4)
  rememberFrame(a, Buffer.from('{"a":1}'))
  t.equal(frameOf(b).toString(), JSON.stringify(b))
})

t.test('a payload read from Redis is parsed, and its text is kept as the frame unchanged', async t => {
  // Spacing and key order that JSON.stringify would not reproduce.
  const payload = '{ "seq": 7, "type": "alert", "timestamp": "2026-01-01T00:00:00.000Z", "level": "info", "message": "hé", "data": {} }'
  const message = parsePayload(payload)
  t.match(message, { type: 'alert', seq: 7, message: 'hé' })
  t.equal(frameOf(message).toString('utf8'), payload)
})

t.test('a payload that is not JSON throws and remembers nothing', async t => {
  t.throws(() => parsePayload('{"seq":'), SyntaxError)
})
