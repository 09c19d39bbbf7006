import t from 'tap'
import type { Client, Server } from '../helper.js'
import { connect, startServer, token } from '../helper.js'

const events = (client: Client): unknown[] => client.messages.filter(m => m.type === 'camera_event').map(m => m.seq)

async function publish (server: Server, count: number, pad = 0): Promise<number[]> {
  const seqs: number[] = []
  for (let i = 0; i < count; i++) {
    const message = await server.app.bus.publish({ type: 'camera_event', timestamp: new Date().toISOString(), camera_id: 'cam-1', event_type: 'motion', data: { i, pad: 'x'.repeat(pad) } })
    seqs.push(message.seq)
  }
  return seqs
}

t.test('over real sockets, in slices of one connection, every client gets every event once and in order', async t => {
  const server = await startServer(t, { FANOUT_SLICE_SIZE: 1 })
  const clients = await Promise.all(Array.from({ length: 6 }, async (_, i) => await connect(server, t, `user-${i}`)))
  // Publishes land while earlier fan-outs are still going slice by slice.
  const published = await publish(server, 40, 200)
  for (const client of clients) {
    await client.next(m => m.seq === published.at(-1))
    t.same(events(client), published, 'all events, once, in order')
  }
})

t.test('events due in one tick reach the client as separate messages in one write', async t => {
  const server = await startServer(t, { STATS_INTERVAL_MS: 3_600_000 })
  const client = await connect(server, t)
  const before = server.app.hub.counters.coalesced
  // Not awaited: the publishes run in one tick.
  const published = await Promise.all(Array.from({ length: 5 }, async (_, i) => (await server.app.bus.publish({ type: 'camera_event', timestamp: new Date().toISOString(), camera_id: 'cam-1', event_type: 'motion', data: { i } })).seq))
  await client.next(m => m.seq === published.at(-1))
  t.same(events(client), published)
  t.equal(server.app.hub.counters.coalesced - before, 4, 'five frames, one write')
  await client.roundTrip()

  const status = await fetch(`${server.url}/api/ws/status`, { headers: { authorization: `Bearer ${token('ops', { roles: ['admin'] })}` } })
  const body = await status.json() as Record<string, unknown>
  t.equal(body.coalesced, server.app.hub.counters.coalesced, 'admins see the coalesced count')
  t.equal(body.slow_consumer_closed, 0)
  const plain = await (await fetch(`${server.url}/api/ws/status`, { headers: { authorization: `Bearer ${token('viewer')}` } })).json() as Record<string, unknown>
  t.notOk('coalesced' in plain, 'others do not')
})

t.test('a client that disconnects in the middle of a fan-out does not stop the others', async t => {
  const server = await startServer(t, { FANOUT_SLICE_SIZE: 2 })
  const clients = await Promise.all(Array.from({ length: 8 }, async (_, i) => await connect(server, t, `user-${i}`)))
  const leaving = clients[3]
  const published = await publish(server, 20, 1000)
  leaving.ws.terminate()
  published.push(...await publish(server, 20, 1000))
  for (const client of clients) {
    if (client === leaving) continue
    await client.next(m => m.seq === published.at(-1))
    t.same(events(client), published)
  }
})
