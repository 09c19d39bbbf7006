import t from 'tap'
import { Client, connect, publishEvent, startServer, token } from '../helper.js'

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
  t.equal(value(text, 'push_slow_consumer_closed_total'), 0)
  t.match(text, /^nodejs_eventloop_lag_p99_seconds \d/m, 'event-loop delay')
  t.match(text, /^process_resident_memory_bytes \d/m, 'process metrics')
})

t.test('the hub counters of slow consumers are read when present', async t => {
  const server = await startServer(t)
  Object.assign(server.app.hub, { counters: { coalesced: 7, slow_consumer_closed: 2 } })
  const text = await (await fetch(`${server.url}/metrics`)).text()
  t.equal(value(text, 'push_coalesced_total'), 7)
  t.equal(value(text, 'push_slow_consumer_closed_total'), 2)
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
