import t from 'tap'
import { once } from 'node:events'
import { connect, startServer, waitFor } from '../helper.js'

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

t.test('a live peer answers protocol pings and stays connected across heartbeats', async t => {
  const server = await startServer(t, { HEARTBEAT_INTERVAL_MS: 50 })
  const client = await connect(server, t)
  let pings = 0
  client.ws.on('ping', () => { pings++ })
  while (pings < 4) await once(client.ws, 'ping')
  await client.roundTrip()
  t.equal(server.app.hub.size, 1)
})
