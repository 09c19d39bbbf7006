import t from 'tap'
import fc from 'fast-check'
import { ERROR_CODES } from '../../src/protocol/messages.js'
import { Client, connect, publishEvent, startServer, token, type Server } from '../helper.js'

/**
 * Property-based fuzzing of what clients send. Every frame gets exactly one
 * answer the protocol defines (a message, or a close with a defined code),
 * the process keeps running, and a healthy connection next to the fuzzed one
 * keeps being served throughout.
 */

type Frame = { data: string | Buffer, binary: boolean }
type Answer = { message: Record<string, unknown> } | { closed: { code: number, reason: string } }

const MAX_BYTES = 4096
const KNOWN_TYPES = ['ping', 'subscribe', 'unsubscribe', 'resume', 'auth']
const PUSHED = new Set(['statistics_update', 'camera_event', 'alert'])
const ANSWER_TYPES = new Set(['error', 'pong', 'subscribed', 'connection_status'])
// 1007: a text frame that is not UTF-8; 1009: larger than MAX_INBOUND_MESSAGE_BYTES.
const CLOSE_CODES = new Set([1007, 1009])

const text = (data: string): Frame => ({ data, binary: false })
const frames: fc.Arbitrary<Frame> = fc.oneof(
  // Random JSON documents of any shape.
  fc.json({ maxDepth: 6 }).map(text),
  // Known types with random fields of random types.
  fc.record({ type: fc.constantFrom(...KNOWN_TYPES) }).chain(base =>
    fc.dictionary(fc.constantFrom('event_types', 'camera_ids', 'timestamp', 'last_seq', 'token', 'extra'), fc.anything({ maxDepth: 3 }), { maxKeys: 3 })
      .map(fields => text(JSON.stringify({ ...fields, ...base })))),
  // The type itself of the wrong type.
  fc.anything({ maxDepth: 2 }).map(type => text(JSON.stringify({ type }) ?? 'null')),
  // Arbitrary text, including broken JSON.
  fc.string({ maxLength: 200 }).map(text),
  // Huge strings around and above the frame limit.
  fc.integer({ min: MAX_BYTES - 64, max: MAX_BYTES * 4 }).map(n => text(JSON.stringify({ type: 'ping', timestamp: 'x'.repeat(n) }))),
  // Deep nesting.
  fc.integer({ min: 1, max: 5000 }).map(depth => text('['.repeat(depth) + ']'.repeat(depth))),
  fc.integer({ min: 1, max: 2000 }).map(depth => text('{"type":'.repeat(depth) + '"ping"' + '}'.repeat(depth))),
  // Invalid UTF-8 in a text frame.
  fc.uint8Array({ minLength: 0, maxLength: 64 }).map(bytes => ({ data: Buffer.concat([Buffer.from('{"type":"'), Buffer.from(bytes), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), binary: false })),
  // Binary frames.
  fc.uint8Array({ maxLength: 256 }).map(bytes => ({ data: Buffer.from(bytes), binary: true }))
)

async function answer (client: Client): Promise<Answer> {
  return await Promise.race([
    // Pushed messages (statistics, events) are not answers.
    client.next(m => !PUSHED.has(m.type as string)).then(message => ({ message })),
    client.closed.then(closed => ({ closed }))
  ])
}

t.test('every inbound frame gets a defined answer and a healthy connection keeps being served', async t => {
  const server: Server = await startServer(t, { WS_MESSAGE_RATE_LIMIT: 0, RESUME_GRACE_MS: 0 })
  const healthy = await connect(server, t, 'healthy')
  let fuzzed = await connect(server, t, 'fuzzer')
  let closes = 0
  let runs = 0

  await fc.assert(fc.asyncProperty(frames, async frame => {
    fuzzed.ws.send(frame.data, { binary: frame.binary })
    const got = await answer(fuzzed)
    if ('closed' in got) {
      if (!CLOSE_CODES.has(got.closed.code)) throw new Error(`undefined close ${got.closed.code} ${got.closed.reason}`)
      if (got.closed.reason === '' && got.closed.code !== 1007 && got.closed.code !== 1009) throw new Error('a close without a reason')
      closes++
      fuzzed = await connect(server, t, 'fuzzer')
    } else {
      const message = got.message
      if (!ANSWER_TYPES.has(message.type as string)) throw new Error(`unexpected answer ${JSON.stringify(message).slice(0, 200)}`)
      if (message.type === 'error') {
        if (!(ERROR_CODES as readonly string[]).includes(message.code as string)) throw new Error(`undefined error code ${String(message.code)}`)
        if (typeof message.message !== 'string' || message.message.length < 10) throw new Error('an error without an explanation')
      }
      if (message.type === 'connection_status' && message.status === 'token_refreshed') throw new Error('a random token was accepted')
    }
    // Every tenth frame: the healthy connection still gets events and answers.
    if (++runs % 10 === 0) {
      const published = await (await publishEvent(server, { camera_id: 'cam-1', event_type: 'fuzz' })).json() as { seq: number }
      const event = await healthy.nextOfType('camera_event')
      if (event.seq !== published.seq) throw new Error(`healthy client got seq ${String(event.seq)}, expected ${published.seq}`)
      await healthy.roundTrip()
    }
  }), { numRuns: 300 })

  t.pass(`300 frames answered, ${closes} closes with a defined code`)
  t.equal(server.app.hub.connectionsOf('healthy'), 1, 'the healthy connection is still open')
  t.notOk(healthy.messages.some(m => m.type === 'error'), 'the healthy connection saw no errors')
})

t.test('oversized and non-UTF-8 frames are closed with 1009 and 1007', async t => {
  const server = await startServer(t, { WS_MESSAGE_RATE_LIMIT: 0 })
  const big = await connect(server, t, 'a')
  big.send({ type: 'ping', timestamp: 'x'.repeat(MAX_BYTES) })
  t.equal((await big.closed).code, 1009)
  const broken = await connect(server, t, 'b')
  broken.ws.send(Buffer.from([0x7b, 0xff, 0x7d]), { binary: false })
  t.equal((await broken.closed).code, 1007)
  const healthy = await connect(server, t, 'c')
  await healthy.roundTrip()
})

t.test('a flood is closed with 4429 while other connections are served', async t => {
  const server = await startServer(t, { WS_MESSAGE_RATE_LIMIT: 5 })
  const healthy = await connect(server, t, 'healthy')
  const flooder = await connect(server, t, 'flooder')
  for (let i = 0; i < 50; i++) flooder.send({ type: 'ping' })
  const closed = await flooder.closed
  t.equal(closed.code, 4429)
  t.match(closed.reason, /too many messages/)
  await healthy.roundTrip()
})

t.test('random HTTP bodies get a defined 4xx (or 202) and never a 500', async t => {
  const server = await startServer(t, { RATE_LIMIT_MAX: 0 })
  const auth = `Bearer ${token('publisher', { roles: ['publisher'] })}`
  const bodies = fc.oneof(
    fc.json({ maxDepth: 6 }),
    fc.record({ camera_id: fc.anything({ maxDepth: 1 }), event_type: fc.anything({ maxDepth: 1 }), data: fc.anything({ maxDepth: 3 }), timestamp: fc.anything({ maxDepth: 1 }) }, { requiredKeys: [] }).map(v => JSON.stringify(v)),
    fc.record({ level: fc.oneof(fc.constantFrom('info', 'warning', 'critical'), fc.anything({ maxDepth: 1 })), message: fc.oneof(fc.string(), fc.anything({ maxDepth: 1 })), user_id: fc.anything({ maxDepth: 1 }) }, { requiredKeys: [] }).map(v => JSON.stringify(v)),
    fc.string({ maxLength: 300 }),
    fc.integer({ min: 1, max: 100_000 }).map(depth => '['.repeat(depth) + ']'.repeat(depth)),
    fc.integer({ min: 60_000, max: 200_000 }).map(n => JSON.stringify({ camera_id: 'c', event_type: 'e', data: { blob: 'x'.repeat(n) } })),
    fc.uint8Array({ maxLength: 300 }).map(bytes => Buffer.concat([Buffer.from(bytes), Buffer.from([0xff])]))
  )
  const contentTypes = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/octet-stream', undefined)
  await fc.assert(fc.asyncProperty(fc.constantFrom('/api/events', '/api/alerts'), bodies, contentTypes, async (path, body, type) => {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: auth, ...(type === undefined ? {} : { 'content-type': type }) },
      body
    })
    if (![202, 400, 413, 415].includes(response.status)) throw new Error(`status ${response.status} for ${String(body).slice(0, 100)}`)
    const reply = await response.json() as { seq?: number, message?: string }
    if (response.status === 202 ? typeof reply.seq !== 'number' : typeof reply.message !== 'string') throw new Error(`reply ${JSON.stringify(reply)}`)
  }), { numRuns: 200 })
  t.equal((await fetch(`${server.url}/healthz`)).status, 200, 'still serving')
})
