import t, { type Test as TapTest } from 'tap'
import { connect, startServer, type Client, type Server } from '../helper.js'

// Enough held bytes to overrun the loopback socket buffers and the default
// SLOW_CONSUMER_HARD_BYTES (8 MiB) many times over when written at once.
const HELD = 600
const PAD = 56 * 1024

const events = (client: Client): number[] => client.messages.filter(m => m.type === 'camera_event').map(m => m.seq as number)

async function publish (server: Server, count: number): Promise<number[]> {
  const seqs: number[] = []
  for (let i = 0; i < count; i++) {
    const message = await server.app.bus.publish({ type: 'camera_event', timestamp: new Date().toISOString(), camera_id: 'cam-1', event_type: 'motion', data: { pad: 'x'.repeat(PAD) } })
    seqs.push(message.seq)
  }
  return seqs
}

/** A listening client whose live events are held in its gate (it has sent nothing). */
async function heldClient (t: TapTest, graceMs: number): Promise<{ server: Server, client: Client, published: number[] }> {
  const server = await startServer(t, { RESUME_GRACE_MS: graceMs, STATS_INTERVAL_MS: 3_600_000 })
  const client = await connect(server, t, 'listener')
  const member = server.app.hub.get(client.messages[0].connection_id as string)!
  const published = await publish(server, HELD)
  await server.app.hub.fanoutIdle()
  t.equal(member.gate?.size, HELD, 'every live event is held in the gate')
  return { server, client, published }
}

/** Keeps publishing while the held burst is still on its way, then checks the client got everything once, in order. */
async function expectEverything (t: TapTest, server: Server, client: Client, published: number[]): Promise<void> {
  // The release has begun; live events keep coming while the burst is still being read.
  await client.nextOfType('camera_event')
  published.push(...await publish(server, 20))
  const last = published[published.length - 1]
  await Promise.race([
    client.next(m => m.seq === last),
    client.closed.then(closed => { throw new Error(`the reading client was closed ${closed.code} ${closed.reason}`) })
  ])
  t.equal(server.app.hub.counters.slowConsumerClosed, 0, 'nobody was closed as a slow consumer')
  t.same(events(client), published, 'every event, once, in seq order')
}

t.test('a listening client whose grace ends with a big gate is paced, not closed as a slow consumer', async t => {
  const { server, client, published } = await heldClient(t, 3000)
  await expectEverything(t, server, client, published)
})

t.test('a first message that releases a big gate paces it too', async t => {
  const { server, client, published } = await heldClient(t, 60_000)
  client.send({ type: 'ping', timestamp: 'first' })
  await expectEverything(t, server, client, published)
  t.ok(client.messages.some(m => m.type === 'pong'), 'the first message is still answered')
})

t.test('a gate that fills up during the grace starts sending, paced, and keeps later events behind what it held', async t => {
  // At most 100 live messages per gate (LIVE_GATE_LIMIT; before it had its own setting, RESUME_HISTORY sized the gate).
  const server = await startServer(t, { RESUME_GRACE_MS: 60_000, LIVE_GATE_LIMIT: 100, RESUME_HISTORY: 100, STATS_INTERVAL_MS: 3_600_000 })
  const client = await connect(server, t, 'listener')
  // Half again as many as it holds, at full speed: the gate overflows and starts sending.
  const published = await publish(server, 150)
  await expectEverything(t, server, client, published)
})
