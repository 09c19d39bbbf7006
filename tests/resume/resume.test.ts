import { once } from 'node:events'
import { setImmediate as nextTurn } from 'node:timers/promises'
import t, { type Test as TapTest } from 'tap'
import { Client, connect, publishEvent, startServer, token, waitFor, type Server } from '../helper.js'
import { stallUntil, unreadBytes } from '../stall.js'

async function publishMany (server: Server, count: number, camera = 'cam-1'): Promise<number[]> {
  const seqs: number[] = []
  for (let i = 0; i < count; i++) {
    const message = await server.app.bus.publish({ type: 'camera_event', timestamp: new Date().toISOString(), camera_id: camera, event_type: 'motion', data: { i } })
    seqs.push(message.seq)
  }
  return seqs
}

/** Connects, receives one event, then loses the connection without a close handshake. */
async function connectAndDrop (server: Server, t: TapTest, user = 'alice'): Promise<number> {
  const client = await connect(server, t, user)
  const response = await publishEvent(server, { camera_id: 'cam-1', event_type: 'motion' })
  const { seq } = await response.json() as { seq: number }
  t.equal((await client.nextOfType('camera_event')).seq, seq)
  client.ws.terminate()
  await waitFor(() => server.app.hub.connectionsOf(user) === 0, 'the server to see the dropped socket')
  return seq
}

const seqsOf = (messages: Array<Record<string, unknown>>): number[] => messages.filter(m => m.type === 'camera_event' || m.type === 'alert').map(m => m.seq as number)

t.test('a resume sent right after connecting comes first even when this process reads it after the grace', async t => {
  const graceMs = 200
  const server = await startServer(t, { RESUME_GRACE_MS: graceMs })
  const lastSeq = await connectAndDrop(server, t)
  const missed = await publishMany(server, 3)

  const client = await Client.open(`${server.wsUrl}?token=${token('alice')}`, t)
  const opened = Date.now()
  client.send({ type: 'resume', last_seq: lastSeq })
  // Busy until the grace is over, with the resume unread in the socket.
  const port = (client.ws as unknown as { _socket: import('node:net').Socket })._socket.localPort as number
  stallUntil(() => (unreadBytes(server.port, port) ?? 0) > 0 && Date.now() > opened + graceMs + 50, 'the resume message')

  const answer = await client.next(m => (m.type === 'connection_status' && m.status === 'resumed') || m.type === 'error')
  t.match(answer, { type: 'connection_status', status: 'resumed', replayed: 3 }, 'the resume was taken as the first message')
  t.same(seqsOf(client.messages), missed, 'and replayed what was missed')
})

t.test('reconnecting with ?last_seq replays exactly what was missed, in order, then goes live', async t => {
  const server = await startServer(t)
  const lastSeq = await connectAndDrop(server, t)
  const missed = await publishMany(server, 100)

  const client = await Client.open(`${server.wsUrl}?token=${token('alice')}&last_seq=${lastSeq}`, t)
  const resumed = await client.next(m => m.type === 'connection_status' && m.status === 'resumed')
  t.equal(resumed.replayed, 100)
  t.same(seqsOf(client.messages), missed, 'exactly the 100 missed events, in order, before resumed')
  t.equal(client.messages[0].status, 'connected', 'connected comes first')

  const [live] = await publishMany(server, 1)
  t.equal((await client.nextOfType('camera_event')).seq, live, 'then live events')
  t.same(seqsOf(client.messages), [...missed, live], 'nothing twice')
})

t.test('events published during the replay are neither lost, doubled nor reordered', async t => {
  const server = await startServer(t, { RESUME_HISTORY: 5000 })
  const lastSeq = await connectAndDrop(server, t)
  await publishMany(server, 1500)

  // Publish on every turn of the event loop while the client resumes; count
  // those that went out while its replay was still running.
  let publishing = true
  let heldDuringReplay = 0
  const publisher = (async () => {
    while (publishing) {
      await server.app.bus.publish({ type: 'camera_event', timestamp: new Date().toISOString(), camera_id: 'cam-2', event_type: 'motion', data: {} })
      for (const member of server.app.hub.members()) if (member.gate !== null) heldDuringReplay++
      await nextTurn()
    }
  })()
  const client = await Client.open(`${server.wsUrl}?token=${token('alice')}&last_seq=${lastSeq}`, t)
  await client.next(m => m.type === 'connection_status' && m.status === 'resumed')
  // Let some more arrive live, then stop and take the last one.
  const resumedAt = client.messages.length
  await client.next((m) => m.type === 'camera_event' && client.messages.indexOf(m) > resumedAt + 20)
  publishing = false
  await publisher
  const [last] = await publishMany(server, 1)
  await client.next(m => m.seq === last)

  t.ok(heldDuringReplay > 0, 'live events were published while the replay ran')
  const received = seqsOf(client.messages)
  const expected = Array.from({ length: last - lastSeq }, (_, i) => lastSeq + 1 + i)
  t.equal(received.length, expected.length, 'as many as were published since last_seq')
  t.same(received, expected, 'every seq once, in order')
})

t.test('a last_seq older than the history gets resync_required and a fresh statistics_update', async t => {
  const server = await startServer(t, { RESUME_HISTORY: 10 })
  const lastSeq = await connectAndDrop(server, t)
  await publishMany(server, 20)

  const client = await Client.open(`${server.wsUrl}?token=${token('alice')}&last_seq=${lastSeq}`, t)
  await client.next(m => m.type === 'connection_status' && m.status === 'resync_required')
  const statistics = await client.nextOfType('statistics_update')
  t.type(statistics.data, 'object')
  t.same(seqsOf(client.messages), [], 'nothing replayed')
  const [live] = await publishMany(server, 1)
  t.equal((await client.nextOfType('camera_event')).seq, live, 'live events flow after a resync')
})

t.test('a last_seq from before a restart (beyond the newest seq) gets resync_required', async t => {
  const server = await startServer(t)
  const client = await Client.open(`${server.wsUrl}?token=${token('alice')}&last_seq=500`, t)
  await client.next(m => m.type === 'connection_status' && m.status === 'resync_required')
  t.pass()
})

t.test('resume sent as the first message replays like ?last_seq', async t => {
  const server = await startServer(t)
  const lastSeq = await connectAndDrop(server, t)
  const missed = await publishMany(server, 30)

  const client = new Client(`${server.wsUrl}?token=${token('alice')}`)
  t.teardown(() => { client.ws.terminate() })
  await once(client.ws, 'open')
  client.send({ type: 'resume', last_seq: lastSeq })
  const resumed = await client.next(m => m.type === 'connection_status' && m.status === 'resumed')
  t.equal(resumed.replayed, 30)
  t.same(seqsOf(client.messages), missed)

  client.send({ type: 'resume', last_seq: lastSeq })
  const error = await client.nextOfType('error')
  t.equal(error.code, 'resume_not_allowed', 'a second resume is refused')
  t.match(error.message, /first message/)
})

t.test('a resume replays only what the user is entitled to', async t => {
  const server = await startServer(t)
  const lastSeq = await connectAndDrop(server, t)
  const publish = async (body: Record<string, unknown>): Promise<number> =>
    (await server.app.bus.publish({ type: 'alert', timestamp: new Date().toISOString(), level: 'info', message: 'm', data: {}, ...body })).seq
  const forAll = await publish({})
  await publish({ user_id: 'bob' })
  const forAlice = await publish({ user_id: 'alice' })

  const client = await Client.open(`${server.wsUrl}?token=${token('alice')}&last_seq=${lastSeq}`, t)
  const resumed = await client.next(m => m.type === 'connection_status' && m.status === 'resumed')
  t.equal(resumed.replayed, 2)
  t.same(seqsOf(client.messages), [forAll, forAlice], "bob's alert is not replayed to alice")
})

t.test('a malformed last_seq gets an error and a plain connection', async t => {
  const server = await startServer(t)
  const client = await Client.open(`${server.wsUrl}?token=${token('alice')}&last_seq=abc`, t)
  const error = await client.nextOfType('error')
  t.equal(error.code, 'invalid_message')
  t.match(error.message, /last_seq/)
  await client.roundTrip()
})

t.test('a new connection that sends something else first gets live events at once', async t => {
  const server = await startServer(t, { RESUME_GRACE_MS: 60_000 })
  const client = await connect(server, t)
  await client.roundTrip()
  const [live] = await publishMany(server, 1)
  t.equal((await client.nextOfType('camera_event')).seq, live)
})

t.test('a new connection that sends nothing gets live events after the grace period', async t => {
  const server = await startServer(t, { RESUME_GRACE_MS: 50 })
  const client = await connect(server, t)
  const [live] = await publishMany(server, 1)
  t.equal((await client.nextOfType('camera_event')).seq, live)
})

t.test('a replay to a client that reads slowly waits for it instead of closing it as a slow consumer', async t => {
  const soft = 64 * 1024
  // Uncompressed: the padding that fills the buffers would deflate to nothing.
  const server = await startServer(t, { SLOW_CONSUMER_SOFT_BYTES: soft, SLOW_CONSUMER_HARD_BYTES: 4 * soft, COMPRESSION: 'off' })
  const lastSeq = await connectAndDrop(server, t)
  const missed: number[] = []
  // 600 events of 32 KB: about 20 MB to replay, more than the kernel's socket buffers hold.
  for (let i = 0; i < 600; i++) {
    missed.push((await server.app.bus.publish({ type: 'camera_event', timestamp: new Date().toISOString(), camera_id: 'cam-1', event_type: 'motion', data: { pad: 'x'.repeat(32 * 1024) } })).seq)
  }
  const client = new Client(`${server.wsUrl}?token=${token('alice')}&last_seq=${lastSeq}`)
  t.teardown(() => { client.ws.terminate() })
  await once(client.ws, 'open')
  // The client stops reading as soon as it is connected, so the replay backs up.
  const raw = (client.ws as unknown as { _socket: import('node:net').Socket })._socket
  raw.pause()
  await waitFor(() => [...server.app.hub.members()].some(m => m.connection.bufferedAmount > soft), 'the replay to back up')
  // Give the replay many turns of the event loop to push on (without
  // backpressure it would cross the hard limit within one).
  for (let i = 0; i < 20 && server.app.hub.counters.slowConsumerClosed === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
  raw.resume()
  const resumed = await client.next(m => m.type === 'connection_status' && m.status === 'resumed')
  t.equal(resumed.replayed, 600)
  t.same(seqsOf(client.messages), missed, 'every missed event arrived, in order')
  t.equal(server.app.hub.counters.slowConsumerClosed, 0, 'the replay never tripped the slow-consumer limit')
})

t.test('resuming names the stream: the same stream replays, another stream (a restarted service) resyncs', async t => {
  const server = await startServer(t)
  const first = await connect(server, t)
  const stream = first.messages[0].stream as string
  t.equal(stream, server.app.bus.stream, 'connected names the stream')
  first.ws.terminate()
  const lastSeq = (await publishMany(server, 2))[0]

  const same = await Client.open(`${server.wsUrl}?token=${token('alice')}&last_seq=${lastSeq}&stream=${stream}`, t)
  t.equal((await same.next(m => m.status === 'resumed' || m.status === 'resync_required')).status, 'resumed')

  const other = await Client.open(`${server.wsUrl}?token=${token('alice')}&last_seq=${lastSeq}&stream=an-earlier-process`, t)
  const answer = await other.next(m => m.status === 'resumed' || m.status === 'resync_required')
  t.equal(answer.status, 'resync_required')
  t.match(answer.message, /restarted/)
  await other.nextOfType('statistics_update')
  t.equal(seqsOf(other.messages).length, 0, 'nothing from the other sequence is replayed')

  const byMessage = await connect(server, t, 'bob')
  byMessage.send({ type: 'resume', last_seq: lastSeq, stream: 'an-earlier-process' })
  t.equal((await byMessage.next(m => m.status === 'resumed' || m.status === 'resync_required')).status, 'resync_required')
})
