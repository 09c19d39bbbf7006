import t from 'tap'
import { encode, parseClientMessage } from '../../src/protocol/codec.js'

t.test('parses valid messages', async t => {
  t.same(parseClientMessage(Buffer.from('{"type":"ping","timestamp":"t"}'), false), { ok: true, message: { type: 'ping', timestamp: 't' } })
  t.match(parseClientMessage(Buffer.from('{"type":"subscribe","event_types":["alert"],"camera_ids":null}'), false), { ok: true })
  t.match(parseClientMessage([Buffer.from('{"type":'), Buffer.from('"ping"}')], false), { ok: true }, 'fragmented buffers')
})

t.test('never throws on bad input', async t => {
  const inputs = ['', 'null', '1', '"x"', '{}', '{"type":null}', '{"type":"__proto__"}', '{"type":"constructor"}', '{"type":"toString"}',
    '{"type":"subscribe","camera_ids":[1]}', '{"type":"subscribe","event_types":' + '['.repeat(5000) + ']'.repeat(5000) + '}',
    Buffer.from([0xff, 0xfe, 0x7b]).toString('latin1')]
  for (const input of inputs) {
    const result = parseClientMessage(Buffer.from(input), false)
    t.equal(result.ok, false, JSON.stringify(input.slice(0, 40)))
    if (!result.ok) t.ok(result.message.length > 0)
  }
  t.match(parseClientMessage(Buffer.from('{"type":"hasOwnProperty"}'), false), { ok: false, code: 'unknown_type' })
})

t.test('encodes UTF-8 JSON once', async t => {
  const frame = encode({ type: 'pong', timestamp: '2026-01-01T00:00:00.000Z', echo: 'Zoë' })
  t.ok(Buffer.isBuffer(frame))
  t.same(JSON.parse(frame.toString('utf8')), { type: 'pong', timestamp: '2026-01-01T00:00:00.000Z', echo: 'Zoë' })
})
