import type { Socket } from 'node:net'
import t from 'tap'
import { Client, connect, publishEvent, startServer, token, type Server } from '../helper.js'

function value (text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1))
  }
  return undefined
}

t.test('GET /metrics reports connections, users, refusals, messages by type, fan-out and process metrics', async t => {
  const server = await startServer(t)
  const clients = [await connect(server, t, 'alice'), await connect(server, t, 'alice'), await connect(server, t, 'bob')]
  const alice = clients[0]
  const refused = await Client.open(`${server.wsUrl}?token=not-a-jwt`, t)
  await refused.closed
  await alice.roundTrip()
  await publishEvent(server, { camera_id: 'cam-1', event_type: 'motion' })
  for (const client of clients) await client.nextOfType('camera_event')

  const response = await fetch(`${server.url}/metrics`)
  t.equal(response.status, 200)
  t.match(response.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const text = await response.text()
  t.equal(value(text, 'push_open_connections'), 3)
  t.equal(value(text, 'push_connected_users'), 2)
  t.equal(value(text, 'push_connections_refused_total{code="4401"}'), 1)
  t.equal(value(text, 'push_messages_sent_total{type="connection_status"}'), 3, 'one connected each')
  t.equal(value(text, 'push_messages_sent_total{type="pong"}'), 1)
  t.equal(value(text, 'push_messages_sent_total{type="camera_event"}'), 3, 'the event went to three connections')
  t.equal(value(text, 'push_fanout_duration_seconds_count'), 1, 'one fan-out timed')
  t.equal(value(text, 'push_coalesced_total'), server.app.hub.counters.coalesced, 'the hub\'s coalesced writes')
  t.equal(value(text, 'push_snapshots_superseded_total'), 0, 'no connection was backed up')
  t.equal(value(text, 'push_slow_consumer_closed_total'), 0)
  t.match(text, /^nodejs_eventloop_lag_p99_seconds \d/m, 'event-loop delay')
  t.match(text, /^process_resident_memory_bytes \d/m, 'process metrics')
})

t.test('the hub counters of slow consumers are read when present', async t => {
  const server = await startServer(t)
  Object.assign(server.app.hub, { counters: { coalesced: 7, superseded: 5, slow_consumer_closed: 2 } })
  const text = await (await fetch(`${server.url}/metrics`)).text()
  t.equal(value(text, 'push_coalesced_total'), 7)
  t.equal(value(text, 'push_snapshots_superseded_total'), 5)
  t.equal(value(text, 'push_slow_consumer_closed_total'), 2)
})

const scrape = async (server: Server): Promise<string> => await (await fetch(`${server.url}/metrics`)).text()
const publish = async (server: Server, pad = 0): Promise<number> => (await server.app.bus.publish({ type: 'camera_event', timestamp: new Date().toISOString(), camera_id: 'cam-1', event_type: 'motion', data: { pad: 'x'.repeat(pad) } })).seq

t.test('push_coalesced_total counts frames that shared a write: all of them delivered', async t => {
  const server = await startServer(t, { STATS_INTERVAL_MS: 3_600_000 })
  const client = await connect(server, t)
  const before = value(await scrape(server), 'push_coalesced_total')!
  // Not awaited one by one: the five publishes land in one tick, so one write carries them.
  const seqs = await Promise.all(Array.from({ length: 5 }, async () => await publish(server)))
  await client.next(m => m.seq === seqs.at(-1))
  t.same(client.messages.filter(m => m.type === 'camera_event').map(m => m.seq), seqs, 'every frame arrived')
  const text = await scrape(server)
  t.equal(value(text, 'push_coalesced_total')! - before, 4, 'five frames, one write: four went out with the first')
  t.equal(value(text, 'push_snapshots_superseded_total'), 0, 'nothing was replaced')
  t.match(text, /^# HELP push_coalesced_total WebSocket frames that went out in the same socket write as an earlier frame .*; none is dropped$/m)
})

t.test('push_snapshots_superseded_total counts statistics snapshots a backed-up connection never got', async t => {
  const SOFT = 64 * 1024
  // Uncompressed: the padding that fills the buffers would deflate to nothing.
  const server = await startServer(t, { SLOW_CONSUMER_SOFT_BYTES: SOFT, SLOW_CONSUMER_HARD_BYTES: 1024 * 1024 * 1024, STATS_INTERVAL_MS: 3_600_000, COMPRESSION: 'off' })
  const stalled = await connect(server, t, 'stalled')
  await stalled.roundTrip()
  const id = stalled.messages[0].connection_id as string
  const buffered = (): number => server.app.hub.get(id)?.connection.bufferedAmount ?? 0
  const socket = (stalled.ws as unknown as { _socket: Socket })._socket
  socket.pause()
  // Fill the socket past the soft limit, and one more so the server holds frames back.
  for (let i = 0; i < 20_000 && buffered() < SOFT; i++) {
    await publish(server, 4000)
    await new Promise(resolve => setImmediate(resolve))
  }
  await publish(server, 4000)
  await new Promise(resolve => setImmediate(resolve))

  for (let version = 1; version <= 4; version++) {
    server.app.hub.broadcast({ type: 'statistics_update', timestamp: new Date().toISOString(), data: { version } } as never)
    await new Promise(resolve => setImmediate(resolve))
  }
  const text = await scrape(server)
  t.equal(value(text, 'push_snapshots_superseded_total'), 3, 'three of four snapshots were replaced by a newer one')
  t.equal(value(text, 'push_coalesced_total'), server.app.hub.counters.coalesced, 'merged writes are counted apart')
  t.match(text, /^# HELP push_snapshots_superseded_total statistics_update messages never sent because a newer one replaced them/m)

  socket.resume()
  const last = await stalled.next(m => m.type === 'statistics_update' && (m.data as { version?: number }).version !== undefined)
  t.same(last.data, { version: 4 }, 'the connection got the newest snapshot only')
})

t.test('each app has its own registry', async t => {
  const one = await startServer(t)
  const two = await startServer(t)
  await connect(one, t, 'alice')
  t.equal(value(await (await fetch(`${one.url}/metrics`)).text(), 'push_open_connections'), 1)
  t.equal(value(await (await fetch(`${two.url}/metrics`)).text(), 'push_open_connections'), 0)
})

t.test('with METRICS_TOKEN the scraper must present it', async t => {
  const server = await startServer(t, { METRICS_TOKEN: 'scrape-secret' })
  const anonymous = await fetch(`${server.url}/metrics`)
  t.equal(anonymous.status, 401)
  t.match((await anonymous.json() as { message: string }).message, /METRICS_TOKEN/)
  t.equal((await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token('admin', { roles: ['admin'] })}` } })).status, 401, 'a user JWT is not the metrics token')
  t.equal((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer scrape-secret' } })).status, 200)
})
