import t from 'tap'
import type { Socket } from 'node:net'
import type { Client, Server, Test } from '../helper.js'
import { connect, startServer, token, waitFor } from '../helper.js'

const SOFT = 64 * 1024
const events = (client: Client): number[] => client.messages.filter(m => m.type === 'camera_event').map(m => m.seq as number)
const rawSocket = (client: Client): Socket => (client.ws as unknown as { _socket: Socket })._socket

async function publishOne (server: Server, pad: number): Promise<number> {
  const message = await server.app.bus.publish({ type: 'camera_event', timestamp: new Date().toISOString(), camera_id: 'cam-1', event_type: 'motion', data: { pad: 'x'.repeat(pad) } })
  // Let the fan-out and the end-of-tick writes run.
  await new Promise(resolve => setImmediate(resolve))
  return message.seq
}

/** Server-side buffered bytes of the connection the client holds. */
function buffered (server: Server, client: Client): number {
  const id = client.messages[0].connection_id as string
  return server.app.hub.get(id)?.connection.bufferedAmount ?? 0
}

/** A service with a client that has stopped reading and one that keeps up, both receiving live events. */
async function oneStalled (t: Test, hardBytes: number): Promise<{ server: Server, stalled: Client, healthy: Client }> {
  // Uncompressed: the padding that fills the buffers would deflate to nothing.
  const server = await startServer(t, { SLOW_CONSUMER_SOFT_BYTES: SOFT, SLOW_CONSUMER_HARD_BYTES: hardBytes, STATS_INTERVAL_MS: 3_600_000, COMPRESSION: 'off' })
  const stalled = await connect(server, t, 'stalled')
  const healthy = await connect(server, t, 'healthy')
  // A first message ends the wait for a resume, so live events flow at once.
  await stalled.roundTrip()
  await healthy.roundTrip()
  rawSocket(stalled).pause()
  return { server, stalled, healthy }
}

t.test('a client that stops reading is closed with 1013 past the hard limit; a healthy one gets everything', async t => {
  const { server, stalled, healthy } = await oneStalled(t, 4 * SOFT)
  const published: number[] = []
  // Bounded: kernel buffers on loopback take a few MB before the server's grow.
  for (let i = 0; i < 20_000 && server.app.hub.counters.slowConsumerClosed === 0; i++) published.push(await publishOne(server, 4000))
  t.equal(server.app.hub.counters.slowConsumerClosed, 1, 'closed as a slow consumer')
  t.ok(buffered(server, stalled) < 16 * SOFT, 'the stalled connection holds bounded memory')
  published.push(await publishOne(server, 10))

  rawSocket(stalled).resume()
  const closed = await stalled.closed
  t.equal(closed.code, 1013)
  t.equal(closed.reason, 'slow consumer')
  const got = events(stalled)
  t.ok(got.length > 0 && got.length < published.length, 'it got a part before the close')
  t.same(got, published.slice(0, got.length), 'what it got is a gap-free prefix, in order: nothing dropped silently')

  await healthy.next(m => m.seq === published.at(-1))
  t.same(events(healthy), published, 'the healthy client got every event in order')

  const status = await (await fetch(`${server.url}/api/ws/status`, { headers: { authorization: `Bearer ${token('ops', { roles: ['admin'] })}` } })).json() as Record<string, unknown>
  t.equal(status.slow_consumer_closed, 1)
})

t.test('while a client is backed up, a newer statistics_update replaces the one it has not received', async t => {
  const { server, stalled, healthy } = await oneStalled(t, 1024 * 1024 * 1024)
  const published: number[] = []
  for (let i = 0; i < 20_000 && buffered(server, stalled) < SOFT; i++) published.push(await publishOne(server, 4000))
  // One more so that the server is holding frames back for it.
  published.push(await publishOne(server, 4000))
  t.ok(buffered(server, stalled) >= SOFT, 'the client is past the soft limit')

  for (let version = 1; version <= 4; version++) {
    server.app.hub.broadcast({ type: 'statistics_update', timestamp: new Date().toISOString(), data: { version } } as never)
    await new Promise(resolve => setImmediate(resolve))
  }
  published.push(await publishOne(server, 10))
  t.equal(server.app.hub.counters.superseded, 3, 'three snapshots were superseded')

  rawSocket(stalled).resume()
  await stalled.next(m => m.seq === published.at(-1))
  t.same(events(stalled), published, 'every event arrives, in order')
  const versions = stalled.messages.filter(m => m.type === 'statistics_update').map(m => (m.data as { version?: number }).version)
  t.same(versions.filter(v => v !== undefined), [4], 'only the newest snapshot')

  await healthy.next(m => m.seq === published.at(-1))
  const healthyVersions = healthy.messages.filter(m => m.type === 'statistics_update').map(m => (m.data as { version?: number }).version)
  t.same(healthyVersions.filter(v => v !== undefined), [1, 2, 3, 4], 'a client that keeps up gets every snapshot')
  t.same(events(healthy), published)
  t.equal(stalled.ws.readyState, stalled.ws.OPEN, 'the backed-up client stays connected below the hard limit')
})
