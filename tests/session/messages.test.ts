import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { connect, startServer, token, waitFor } from '../helper.js'
import { stallUntil, unreadBytes } from '../stall.js'

/** A WebSocket peer in its own process (it answers pings while this one is stalled); prints its local port once open. */
const PEER = `
const WebSocket = require('ws')
const ws = new WebSocket(process.env.PEER_URL)
ws.on('open', () => { console.log(ws._socket.localPort) })
ws.on('error', () => {})
ws.on('close', () => { process.exit(0) })
`

t.test('ping is answered with pong echoing the client timestamp', async t => {
  const server = await startServer(t)
  const client = await connect(server, t)
  client.send({ type: 'ping', timestamp: '2026-01-01T00:00:00.000Z' })
  const pong = await client.nextOfType('pong')
  t.equal(pong.echo, '2026-01-01T00:00:00.000Z')
  t.equal(new Date(pong.timestamp as string).toISOString(), pong.timestamp)
})

t.test('subscribe and unsubscribe answer with the whole subscription', async t => {
  const server = await startServer(t)
  const client = await connect(server, t)

  client.send({ type: 'unsubscribe', event_types: ['alert'] })
  t.match(await client.nextOfType('subscribed'), { event_types: ['camera_event'], camera_ids: null })

  client.send({ type: 'subscribe', event_types: ['camera_event'], camera_ids: ['cam_1'] })
  t.match(await client.nextOfType('subscribed'), { event_types: ['camera_event'], camera_ids: ['cam_1'] })

  client.send({ type: 'subscribe', camera_ids: ['cam_2'] })
  t.same((await client.nextOfType('subscribed')).camera_ids, ['cam_1', 'cam_2'], 'camera lists are united')

  client.send({ type: 'unsubscribe', camera_ids: ['cam_1'] })
  t.same((await client.nextOfType('subscribed')).camera_ids, ['cam_2'])

  client.send({ type: 'subscribe', event_types: ['alert'], camera_ids: null })
  const all = await client.nextOfType('subscribed')
  t.same(all.event_types, ['camera_event', 'alert'])
  t.equal(all.camera_ids, null, 'null lifts the camera filter')
})

const badInputs: Array<[string, string, string, RegExp]> = [
  ['invalid JSON', '{"type":', 'invalid_json', /not valid JSON/],
  ['a JSON array', '[1,2]', 'invalid_message', /JSON object/],
  ['a message without type', '{"event_types":[]}', 'invalid_message', /"type"/],
  ['an unknown type', '{"type":"dance"}', 'unknown_type', /unknown message type "dance"; use one of ping, subscribe, unsubscribe/],
  ['a wrong field type', '{"type":"subscribe","event_types":"camera_event"}', 'invalid_message', /field "event_types" must be array/],
  ['an unknown event type', '{"type":"subscribe","event_types":["weather"]}', 'invalid_message', /field "event_types.0" must be one of "camera_event", "alert"/],
  ['an extra field', '{"type":"ping","x":1}', 'invalid_message', /field "x" is not allowed/]
]
for (const [what, frame, code, message] of badInputs) {
  t.test(`${what} gets error ${code} and the connection stays open`, async t => {
    const server = await startServer(t)
    const client = await connect(server, t)
    client.send(frame)
    const error = await client.nextOfType('error')
    t.equal(error.code, code)
    t.match(error.message, message)
    await client.roundTrip()
    t.pass('the connection still answers')
  })
}

t.test('a binary frame gets unsupported_data and the connection stays open', async t => {
  const server = await startServer(t)
  const client = await connect(server, t)
  client.ws.send(Buffer.from([1, 2, 3]), { binary: true })
  const error = await client.nextOfType('error')
  t.equal(error.code, 'unsupported_data')
  await client.roundTrip()
})

t.test('a frame over MAX_INBOUND_MESSAGE_BYTES closes with 1009, others are unaffected', async t => {
  const server = await startServer(t, { MAX_INBOUND_MESSAGE_BYTES: 256 })
  const bystander = await connect(server, t, 'bob')
  const client = await connect(server, t)
  client.send({ type: 'ping', timestamp: 'x'.repeat(300) })
  const { code } = await client.closed
  t.equal(code, 1009)
  await bystander.roundTrip()
  await waitFor(() => server.app.hub.size === 1, 'the slot to be freed')
})

t.test('more than WS_MESSAGE_RATE_LIMIT messages a second closes with 4429', async t => {
  const server = await startServer(t, { WS_MESSAGE_RATE_LIMIT: 5 })
  const client = await connect(server, t)
  for (let i = 0; i < 20; i++) client.send({ type: 'ping', timestamp: String(i) })
  const { code, reason } = await client.closed
  t.equal(code, 4429)
  t.match(reason, /at most 5 per second/)
  const pongs = client.messages.filter(m => m.type === 'pong')
  t.ok(pongs.length <= 5, `at most the allowed messages were answered (${pongs.length})`)
})

t.test('WS_MESSAGE_RATE_LIMIT=0 disables the message limit', async t => {
  const server = await startServer(t, { WS_MESSAGE_RATE_LIMIT: 0 })
  const client = await connect(server, t)
  for (let i = 0; i < 200; i++) client.send({ type: 'ping', timestamp: String(i) })
  await client.next(m => m.type === 'pong' && m.echo === '199')
  t.equal(client.messages.filter(m => m.type === 'pong').length, 200)
})

t.test('a dead peer is terminated by the heartbeat and frees its slot', async t => {
  const server = await startServer(t, { HEARTBEAT_INTERVAL_MS: 100, MAX_CONNECTIONS_PER_USER: 1 })
  const client = await connect(server, t, 'erin')
  // A paused socket reads nothing, so it never answers the protocol pings.
  const raw = (client.ws as unknown as { _socket: import('node:net').Socket })._socket
  raw.pause()
  await waitFor(() => server.app.hub.connectionsOf('erin') === 0, 'the heartbeat to terminate the dead peer')
  await t.resolves(connect(server, t, 'erin'), 'the slot is free again')
  raw.destroy()
})

t.test('a peer whose pong came while this process was busy for a whole heartbeat interval stays connected', async t => {
  const interval = 200
  const server = await startServer(t, { HEARTBEAT_INTERVAL_MS: interval })
  const peer = spawn(process.execPath, ['-e', PEER], { env: { ...process.env, PEER_URL: `${server.wsUrl}?token=${token('frank')}` }, stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { peer.kill() })
  const [line] = await once(createInterface({ input: peer.stdout! }), 'line') as [string]
  const peerPort = Number(line)
  await waitFor(() => server.app.hub.size === 1, 'the peer to be admitted')
  const [member] = server.app.hub.members()

  // The first ping goes out; this process then stalls past the next sweep,
  // while the peer's pong waits unread in the socket.
  const connection = member.connection
  const ping = connection.ping.bind(connection)
  let pings = 0
  connection.ping = () => {
    ping()
    if (pings++ > 0) return
    const at = Date.now()
    stallUntil(() => (unreadBytes(server.port, peerPort) ?? 0) > 0 && Date.now() > at + interval + 50, "the peer's pong")
  }
  await waitFor(() => pings >= 2 || server.app.hub.size === 0, 'the sweep after the stall')
  t.equal(server.app.hub.size, 1, 'the peer was not terminated')
  t.ok(pings >= 2, 'it was pinged again instead')
})

t.test('a live peer answers protocol pings and stays connected across heartbeats', async t => {
  const server = await startServer(t, { HEARTBEAT_INTERVAL_MS: 50 })
  const client = await connect(server, t)
  let pings = 0
  client.ws.on('ping', () => { pings++ })
  while (pings < 4) await once(client.ws, 'ping')
  await client.roundTrip()
  t.equal(server.app.hub.size, 1)
})
