import t from 'tap'
import * as ws from 'ws'
import { frameText } from '../../src/transport/frame.js'

// ws's own framer, the bytes `socket.send(data, { binary: false })` writes
// on a server socket without compression.
const Sender = (ws as unknown as { Sender: unknown }).Sender as { frame (data: Buffer, options: Record<string, unknown>): Buffer[] }
function wsFrame (payload: Buffer): Buffer {
  return Buffer.concat(Sender.frame(Buffer.from(payload), { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false }))
}

t.test('text frames are byte for byte what ws sends, at every header size', async t => {
  for (const length of [0, 1, 125, 126, 127, 1000, 65_535, 65_536, 70_000]) {
    const payload = Buffer.alloc(length, 'x')
    t.same(frameText(payload), wsFrame(payload), `payload of ${length} bytes`)
  }
})

t.test('multi-byte UTF-8 JSON is framed by its byte length', async t => {
  const payload = Buffer.from(JSON.stringify({ type: 'alert', message: 'Überwachung 🚨 カメラ' }))
  const frame = frameText(payload)
  t.same(frame, wsFrame(payload))
  t.equal(frame[1], payload.length, 'length in bytes, not characters')
})
