import t from 'tap'
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { deflateRawSync } from 'node:zlib'
import { Client, connect, publishEvent, startServer, token, waitFor, type Server, type Test } from '../helper.js'
import { RawClient } from './raw-ws.js'

/** Camera event data of about 3 KB, shaped like the statistics the service pushes. */
function bigData (n: number): Record<string, unknown> {
  const cameras: Record<string, unknown> = {}
  for (let i = 0; i < 40; i++) cameras[`cam-${i}`] = { events_today: n * 100 + i, last_event: new Date(1_700_000_000_000 + i * 1000).toISOString(), status: 'online' }
  return { n, cameras }
}

async function publish (server: Server, data: Record<string, unknown>): Promise<number> {
  const reply = await publishEvent(server, { camera_id: 'cam-1', event_type: 'motion', data })
  t.equal(reply.status, 202)
  return ((await reply.json()) as { seq: number }).seq
}

const events = (messages: Array<Record<string, unknown>>): Array<Record<string, unknown>> => messages.filter(message => message.type === 'camera_event')

async function rawConnected (t: Test, server: Server, query = '', offer?: string): Promise<RawClient> {
  const raw = await RawClient.open(t, server.port, `/api/ws/statistics?token=${token('raw')}${query}`, offer)
  await waitFor(() => raw.messages.some(message => message.type === 'connection_status'), 'the raw client\'s connection_status')
  return raw
}

t.test('a ws client negotiates permessage-deflate and decodes the shared compressed frames', async t => {
  const server = await startServer(t)
  const client = new Client(`${server.wsUrl}?token=${token('alice')}`)
  t.teardown(() => { client.ws.terminate() })
  const [response] = await once(client.ws, 'upgrade') as [IncomingMessage]
  t.match(response.headers['sec-websocket-extensions'], /^permessage-deflate; server_no_context_takeover; client_no_context_takeover$/, 'negotiated, with no context takeover either way')
  t.equal(client.ws.extensions, 'permessage-deflate')
  const big = bigData(1)
  await publish(server, big)
  const message = await client.next(message => message.type === 'camera_event')
  t.same(message.data, big)
})

t.test('large messages go compressed (RSV1 set) and short ones plain, each compressed once for every socket', async t => {
  const server = await startServer(t, { COMPRESSION_MIN_BYTES: 1024 })
  const raws = [await rawConnected(t, server), await rawConnected(t, server)]
  t.match(raws[0].extensions, /^permessage-deflate; server_no_context_takeover; client_no_context_takeover/)
  const before = server.app.compressor!.stats.messages
  await publish(server, bigData(1))
  await publish(server, { small: true })
  await publish(server, bigData(2))
  for (const raw of raws) await waitFor(() => events(raw.messages).length === 3, 'three events')
  for (const raw of raws) {
    const frames = raw.frames.filter(frame => frame.text.startsWith('{"type":"camera_event"'))
    t.same(frames.map(frame => frame.compressed), [true, false, true], 'only the two large ones are compressed')
    t.same(events(raw.messages).map(message => message.data), [bigData(1), { small: true }, bigData(2)])
  }
  t.equal(server.app.compressor!.stats.messages - before, 2, 'each large message deflated once, not once per socket')
})

t.test('compressed and plain sockets receive every message, with the same seqs and the same JSON', async t => {
  const server = await startServer(t, { COMPRESSION_MIN_BYTES: 512 })
  const compressed = [await connect(server, t, 'a'), await connect(server, t, 'b')]
  const plain = [
    await Client.open(`${server.wsUrl}?token=${token('c')}`, t, { perMessageDeflate: false }),
    await Client.open(`${server.wsUrl}?token=${token('d')}`, t, { perMessageDeflate: false })
  ]
  const raw = await rawConnected(t, server)
  const rawPlain = await rawConnected(t, server, '', '')
  t.equal(plain[0].ws.extensions, '')
  t.equal(rawPlain.extensions, '')
  // Published together, so the fan-out also sends several in one combined frame.
  const sent = await Promise.all([1, 2, 3, 4, 5, 6].map(async n => await publish(server, n % 2 === 0 ? { n } : bigData(n))))
  const clients = [...compressed, ...plain]
  for (const client of clients) await waitFor(() => events(client.messages).length === 6, 'six events on every ws client')
  for (const rc of [raw, rawPlain]) await waitFor(() => events(rc.messages).length === 6, 'six events on the raw clients')
  const expected = events(compressed[0].messages)
  t.same(expected.map(message => message.seq), [...sent].sort((a, b) => a - b))
  for (const client of [...clients, raw, rawPlain]) t.same(events(client.messages), expected)
  t.ok(raw.frames.some(frame => frame.compressed), 'the negotiated raw socket got compressed frames')
  t.notOk(rawPlain.frames.some(frame => frame.compressed), 'the other got none')
})

t.test('the resume replay uses the shared compressed frames; the first statistics, counted for the new connection, go plain and are never deflated per connection', async t => {
  const server = await startServer(t, { COMPRESSION_MIN_BYTES: 100 })
  const seqs = [await publish(server, bigData(1)), await publish(server, bigData(2))]
  const first = await RawClient.open(t, server.port, `/api/ws/statistics?token=${token('r1')}&last_seq=0`)
  await waitFor(() => events(first.messages).length === 2, 'the replay')
  t.same(events(first.messages).map(message => message.seq), seqs)
  const statistics = first.frames.find(frame => frame.text.startsWith('{"type":"statistics_update"'))
  // The greeting counts the connection it is sent to, so it is built for that connection alone.
  t.equal(statistics?.compressed, false, 'the statistics greeting went plain')
  t.equal((JSON.parse(statistics!.text) as { data: { total_connections: number } }).data.total_connections, 1, 'it counts its own connection')
  t.ok(first.frames.filter(frame => frame.text.startsWith('{"type":"camera_event"')).every(frame => frame.compressed), 'the replayed events went compressed')
  const built = server.app.compressor!.stats.messages
  const second = await RawClient.open(t, server.port, `/api/ws/statistics?token=${token('r2')}&last_seq=0`)
  await waitFor(() => events(second.messages).length === 2, 'the second replay')
  t.same(events(second.messages), events(first.messages))
  t.ok(server.app.compressor!.stats.messages - built <= 1, 'the replayed events were not deflated again, nor the greeting (only the new connection_status may be)')
  const secondStatistics = second.frames.find(frame => frame.text.startsWith('{"type":"statistics_update"'))
  t.equal(secondStatistics?.compressed, false, 'the second greeting went plain too')
  t.equal((JSON.parse(secondStatistics!.text) as { data: { total_connections: number } }).data.total_connections, 2, 'and counts both connections')
})

t.test('compressed client messages are read, whole or in fragments', async t => {
  const server = await startServer(t)
  const client = await Client.open(`${server.wsUrl}?token=${token('alice')}`, t, { perMessageDeflate: { threshold: 0 } })
  await client.next(message => message.type === 'connection_status')
  client.ws.send(JSON.stringify({ type: 'ping', timestamp: 'whole' }))
  t.equal((await client.next(message => message.type === 'pong')).echo, 'whole')
  // ws compresses each fragment; the server inflates the message once it is complete.
  client.ws.send('{"type":"ping",', { fin: false })
  client.ws.send('"timestamp":"fragments"}', { fin: true })
  t.equal((await client.next(message => message.type === 'pong')).echo, 'fragments')
  const raw = await rawConnected(t, server)
  raw.send(JSON.stringify({ type: 'ping', timestamp: 'raw' }), { compressed: true })
  await waitFor(() => raw.messages.some(message => message.type === 'pong'), 'the raw client\'s pong')
})

t.test('a deflate bomb is refused with 1009 and the service keeps serving the others', async t => {
  const server = await startServer(t, { MAX_INBOUND_MESSAGE_BYTES: 4096 })
  const bystander = await connect(server, t, 'bystander')
  const bomber = await connect(server, t, 'bomber')
  // About 3 KB on the wire (under the limit), 3 MB once inflated.
  bomber.ws.send(JSON.stringify({ type: 'ping', timestamp: ' '.repeat(3_000_000) }))
  t.equal((await bomber.closed).code, 1009)
  const raw = await rawConnected(t, server)
  raw.send('', { raw: deflateRawSync(Buffer.alloc(3_000_000, 'x')) })
  await waitFor(() => raw.closeCode !== null, 'the raw bomber\'s close frame')
  t.equal(raw.closeCode, 1009)
  await publish(server, bigData(3))
  t.same((await bystander.next(message => message.type === 'camera_event')).data, bigData(3))
})

t.test('a compressed frame that does not inflate closes the socket with 1007', async t => {
  const server = await startServer(t)
  const raw = await rawConnected(t, server)
  raw.send('', { raw: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) })
  await waitFor(() => raw.closeCode !== null, 'the close frame')
  t.equal(raw.closeCode, 1007)
})

t.test('COMPRESSION=off: no extension in the handshake response, every frame plain', async t => {
  const server = await startServer(t, { COMPRESSION: 'off', COMPRESSION_MIN_BYTES: 0 })
  t.equal(server.app.compressor, null)
  const client = await connect(server, t)
  t.equal(client.ws.extensions, '')
  const raw = await rawConnected(t, server)
  t.equal(raw.extensions, '')
  await publish(server, bigData(1))
  await waitFor(() => events(raw.messages).length === 1, 'the event')
  t.notOk(raw.frames.some(frame => frame.compressed))
  t.same((await client.next(message => message.type === 'camera_event')).data, bigData(1))
})

t.test('a client that limits the server window gets plain frames', async t => {
  const server = await startServer(t, { COMPRESSION_MIN_BYTES: 0 })
  const raw = await rawConnected(t, server, '', 'permessage-deflate; server_max_window_bits=10')
  t.match(raw.extensions, /server_max_window_bits=10/)
  await publish(server, bigData(1))
  await waitFor(() => events(raw.messages).length === 1, 'the event')
  t.notOk(raw.frames.some(frame => frame.compressed))
})
