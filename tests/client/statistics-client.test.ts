import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import WebSocket, { WebSocketServer } from 'ws'
import { buildApp } from '../../src/app.js'
import {
  connect, SUBSCRIBABLE_EVENT_TYPES, type ConnectOptions, type StatisticsClient, type Status, type StatusChange,
  type WebSocketConstructor
} from '../../src/client/index.js'
import type { SeqGap } from '../../src/client/seq-tracker.js'
import { SUBSCRIBABLE_TYPES } from '../../src/protocol/messages.js'
import { publishEvent, startServer, testConfig, token, waitFor, type Server, type Test } from '../helper.js'
import { NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'
import { WebSocketGate } from './websocket-gate.js'

/** Timings small enough for tests; production defaults are seconds. */
const FAST = {
  backoffBaseMs: 10,
  backoffMaxMs: 40,
  stableAfterMs: 1000,
  restartJitterMs: 20,
  pingIntervalMs: 1000,
  pongTimeoutMs: 1000,
  connectTimeoutMs: 2000,
  pollIntervalMs: 20,
  pollTimeoutMs: 2000
}

/** The ws package's WebSocket, counting the sockets the client opens. */
function countingWebSocket (): { WebSocket: WebSocketConstructor, opened: () => number } {
  let opened = 0
  class Counting extends WebSocket {
    constructor (url: string) {
      super(url)
      opened++
    }
  }
  return { WebSocket: Counting as unknown as WebSocketConstructor, opened: () => opened }
}

function open (t: Test, options: ConnectOptions): StatisticsClient {
  const client = connect({ WebSocket: WebSocket as unknown as WebSocketConstructor, ...FAST, ...options })
  t.teardown(() => { client.close() })
  return client
}

/** Resolves with the status change to `status` (at once if the client is there already). */
async function reach (client: StatisticsClient, status: Status, match: (change: StatusChange) => boolean = () => true): Promise<StatusChange> {
  const now = { status, previous: status, reason: client.reason }
  if (client.status === status && match(now)) return now
  return await new Promise(resolve => {
    const off = client.on('status', change => {
      if (change.status === status && match(change)) {
        off()
        resolve(change)
      }
    })
  })
}

async function next<K extends 'camera_event' | 'alert' | 'statistics_update' | 'subscribed' | 'gap' | 'resync' | 'connection_status'> (client: StatisticsClient, type: K, predicate: (payload: any) => boolean = () => true): Promise<any> {
  return await new Promise(resolve => {
    const off = client.on(type, (payload: unknown) => {
      if (predicate(payload)) {
        off()
        resolve(payload)
      }
    })
  })
}

async function publishAlert (server: Server, body: Record<string, unknown>): Promise<number> {
  const response = await fetch(`${server.url}/api/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token('gateway', { roles: ['publisher'] })}` },
    body: JSON.stringify(body)
  })
  return (await response.json() as { seq: number }).seq
}

/** Publishes a camera event and returns its seq. */
async function publish (server: Server, cameraId = 'cam-1'): Promise<number> {
  const response = await publishEvent(server, { camera_id: cameraId, event_type: 'motion' })
  return (await response.json() as { seq: number }).seq
}

/** Records what a page's handlers see: camera event and alert seqs in order, gaps, resyncs, resumes. */
function record (client: StatisticsClient): { seqs: number[], gaps: SeqGap[], resyncs: unknown[], resumed: number[] } {
  const seen = { seqs: [] as number[], gaps: [] as SeqGap[], resyncs: [] as unknown[], resumed: [] as number[] }
  client.on('camera_event', event => seen.seqs.push(event.seq))
  client.on('alert', alert => seen.seqs.push(alert.seq))
  client.on('gap', gap => seen.gaps.push(gap))
  client.on('resync', info => seen.resyncs.push(info))
  client.on('connection_status', status => { if (status.status === 'resumed') seen.resumed.push(status.replayed ?? -1) })
  return seen
}

/** Takes the socket away (the proxy cuts it and refuses new ones) and waits until the client noticed. */
async function dropSocket (client: StatisticsClient, gate: WebSocketGate): Promise<void> {
  const down = reach(client, 'connecting', change => change.previous === 'live')
  gate.block()
  await down
}

t.test('the client mirrors the protocol\'s subscribable types', async t => {
  t.same([...SUBSCRIBABLE_EVENT_TYPES], [...SUBSCRIBABLE_TYPES])
})

t.test('connect() refuses options it cannot work with, saying what to pass', async t => {
  t.throws(() => connect({ url: 'http://127.0.0.1:1' } as ConnectOptions), /pass options.token .* or options.getToken/)
  t.throws(() => connect({ token: 'x' }), /pass options.url/)
  t.throws(() => connect({ url: 'ftp://x', token: 'x' }), /http\(s\) or ws\(s\)/)
  t.throws(() => connect({ url: 'http://x', token: 'x', pingIntervalMs: -1 }), /pingIntervalMs must be a number/)
  const client = open(t, { url: 'http://127.0.0.1:1', token: 'x', WebSocket: null, fetch: async () => await new Promise(() => {}) })
  t.throws(() => { client.subscribe(['motion' as 'alert']) }, /unknown event type "motion"; use camera_event or alert/)
})

t.test('goes live, receives statistics and camera events, and on() returns an unsubscribe', async t => {
  const server = await startServer(t, { STATS_INTERVAL_MS: 100 })
  const client = open(t, { url: server.url, token: token('alice') })
  const statuses: Status[] = []
  client.on('status', change => statuses.push(change.status))
  t.equal(client.status, 'connecting')
  await reach(client, 'live')
  t.same(statuses, ['live'])

  const seen: number[] = []
  const off = client.on('camera_event', event => seen.push(event.seq))
  const event = next(client, 'camera_event')
  // Listening before publishing: the counted update may arrive before the event's await returns.
  const update = next(client, 'statistics_update', m => m.data.events_total === 1)
  await publishEvent(server, { camera_id: 'cam-1', event_type: 'face_recognized', data: { person_name: 'Ada' } })
  const received = await event
  t.equal(received.camera_id, 'cam-1')
  t.equal(received.data.person_name, 'Ada')
  t.equal(client.lastSeq, received.seq)
  off()

  t.equal((await update).data.recognitions_today, 1)
  t.same(seen, [received.seq], 'the removed handler saw only the first event')
  t.ok(client.lastUpdate instanceof Date)
})

t.test('a connection without last_seq ends the service\'s wait for a resume message at once', async t => {
  // A grace far longer than the test may take: live events would be held
  // for a minute if the client sent nothing.
  const server = await startServer(t, { RESUME_GRACE_MS: 60_000 })
  // And no keep-alive ping before then either.
  const client = open(t, { url: server.url, token: token('alice'), pingIntervalMs: 60_000 })
  await reach(client, 'live')
  const event = next(client, 'camera_event')
  await publish(server)
  t.equal((await event).seq, 1)
})

t.test('an expired token without getToken: unauthorized and no reconnect', async t => {
  const server = await startServer(t)
  const counting = countingWebSocket()
  const client = open(t, { url: server.url, token: token('alice', { ttlMs: -1000 }), WebSocket: counting.WebSocket })
  const change = await reach(client, 'unauthorized')
  t.match(change.reason, /^token expired/)
  t.equal(client.nextAttemptAt, null, 'no attempt is scheduled')
  t.equal(counting.opened(), 1)
})

t.test('a refused token: getToken is called once and its token connects', async t => {
  const server = await startServer(t)
  const counting = countingWebSocket()
  let calls = 0
  const client = open(t, {
    url: server.url,
    token: token('alice', { ttlMs: -1000 }),
    getToken: () => { calls++; return token('alice') },
    WebSocket: counting.WebSocket
  })
  await reach(client, 'live')
  t.equal(calls, 1)
  t.equal(counting.opened(), 2)
})

t.test('a refused token whose replacement is refused too: unauthorized after one getToken', async t => {
  const server = await startServer(t)
  const counting = countingWebSocket()
  let calls = 0
  const client = open(t, {
    url: server.url,
    getToken: () => { calls++; return token('alice', { ttlMs: -1000 }) },
    WebSocket: counting.WebSocket
  })
  const change = await reach(client, 'unauthorized')
  t.match(change.reason, /^token expired/)
  // One call for the first token (none was given), one after the refusal.
  t.equal(calls, 2)
  t.equal(counting.opened(), 2)
  t.equal(client.nextAttemptAt, null)
})

t.test('the connection limit (1008): offline with the reason, no reconnect', async t => {
  const server = await startServer(t, { MAX_CONNECTIONS_PER_USER: 1 })
  const first = open(t, { url: server.url, token: token('carol') })
  await reach(first, 'live')
  const counting = countingWebSocket()
  const second = open(t, { url: server.url, token: token('carol'), WebSocket: counting.WebSocket })
  const change = await reach(second, 'offline')
  t.equal(change.reason, 'connection limit exceeded: 1 per user')
  t.equal(second.nextAttemptAt, null)
  t.equal(counting.opened(), 1)
  t.equal(first.status, 'live', 'the first connection is untouched')
})

t.test('a service restart (1001): reconnects within the restart jitter and re-sends the subscription', async t => {
  const config = testConfig()
  const first = await buildApp(config, { logger: false })
  await first.listen({ port: 0, host: '127.0.0.1' })
  const { port } = first.server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  // Restart jitter up to 1 s against a backoff of at most 40 ms: the
  // scheduled delay shows which one was used.
  const client = open(t, { url, token: token('alice'), random: () => 0.5, restartJitterMs: 1000 })
  await reach(client, 'live')
  client.subscribe(['camera_event'], ['cam-2'])
  client.unsubscribe(['alert'])
  await next(client, 'subscribed', m => m.event_types.length === 1)

  const down = reach(client, 'connecting')
  await first.close()
  const change = await down
  t.equal(change.reason, 'server shutting down')
  const delay = (client.nextAttemptAt ?? 0) - Date.now()
  t.ok(delay > FAST.backoffMaxMs && delay <= 500, `the retry is drawn from the restart jitter (${delay} ms), not the backoff`)

  const resubscribed = next(client, 'subscribed', m => m.camera_ids !== null)
  const second = await buildApp(config, { logger: false })
  t.teardown(async () => { await second.close() })
  await second.listen({ port, host: '127.0.0.1' })
  const subscribed = await resubscribed
  t.same(subscribed.event_types, ['camera_event'])
  t.same(subscribed.camera_ids, ['cam-2'])
  t.equal(client.status, 'live')
})

t.test('falls back to polling after 3 failed attempts, keeps trying, and goes live when the socket returns', async t => {
  const server = await startServer(t, { STATS_INTERVAL_MS: 100, RATE_LIMIT_MAX: 0 })
  const gate = await WebSocketGate.start(server.url, t)
  gate.block()
  const statuses: Status[] = []
  const client = open(t, { url: gate.url, token: token('alice') })
  client.on('status', change => { if (change.status !== change.previous) statuses.push(change.status) })
  await reach(client, 'polling')
  t.equal(gate.refused, 3, 'polling starts after the third failed attempt')
  t.same(statuses, ['polling'], 'connecting until then')
  const update = await next(client, 'statistics_update')
  t.type(update.data.total_connections, 'number', 'statistics come from GET /api/statistics')

  await waitFor(() => gate.refused > 4, 'more socket attempts while polling')
  t.equal(client.status, 'polling', 'the socket is retried in the background while polling')
  gate.unblock()
  await reach(client, 'live')
  t.equal(gate.forwarded, 1)
})

t.test('without WebSocket the client polls, and an expired token there is unauthorized', async t => {
  const server = await startServer(t, { RATE_LIMIT_MAX: 0 })
  const client = open(t, { url: server.url, token: token('alice'), WebSocket: null })
  await reach(client, 'polling')
  const update = await next(client, 'statistics_update')
  t.type(update.data.events_total, 'number')

  const expired = open(t, { url: server.url, token: token('alice', { ttlMs: -1000 }), WebSocket: null })
  const change = await reach(expired, 'unauthorized')
  t.equal(change.reason, 'token expired: get a new token')
})

t.test('a dropped socket: the reconnect resumes with last_seq and the handlers get exactly the missed messages, in order, without a gap', async t => {
  const server = await startServer(t)
  const gate = await WebSocketGate.start(server.url, t)
  const client = open(t, { url: gate.url, token: token('alice') })
  const seen = record(client)
  await reach(client, 'live')
  const first = next(client, 'camera_event')
  await publish(server)
  t.equal((await first).seq, 1)

  await dropSocket(client, gate)
  t.equal(await publish(server, 'cam-2'), 2)
  t.equal(await publishAlert(server, { level: 'warning', message: 'camera cam-2 is offline' }), 3)
  t.equal(await publishAlert(server, { level: 'info', message: 'for bob only', user_id: 'bob' }), 4)
  t.equal(await publish(server, 'cam-3'), 5)
  const resumed = next(client, 'connection_status', m => m.status === 'resumed')
  gate.unblock()
  t.equal((await resumed).replayed, 3, 'the service replayed what alice is entitled to (not bob\'s alert)')
  t.equal(client.status, 'live')
  t.same(seen.seqs, [1, 2, 3, 5], 'the missed messages arrived in order, before `resumed`')

  const sixth = next(client, 'camera_event')
  await publish(server)
  t.equal((await sixth).seq, 6)
  t.same(seen.seqs, [1, 2, 3, 5, 6], 'live messages follow, none twice')
  t.equal(client.lastSeq, 6)
  t.same(seen.resyncs, [])
  // Seq 4 was bob's alert: alice was never entitled to it, and the replay
  // covered the rest; no gap is reported.
  t.same(seen.gaps, [])
})

t.test('a resume with a camera filter: the replay is filtered like the live stream', async t => {
  const server = await startServer(t)
  const gate = await WebSocketGate.start(server.url, t)
  const client = open(t, { url: gate.url, token: token('alice') })
  const seen = record(client)
  await reach(client, 'live')
  client.subscribe([], ['cam-1'])
  await next(client, 'subscribed')
  const first = next(client, 'camera_event')
  await publish(server, 'cam-1')
  await first

  await dropSocket(client, gate)
  await publish(server, 'cam-2')
  await publish(server, 'cam-1')
  await publish(server, 'cam-2')
  const resumed = next(client, 'connection_status', m => m.status === 'resumed')
  gate.unblock()
  await resumed
  const resubscribed = next(client, 'subscribed')
  await resubscribed
  const fifth = next(client, 'camera_event')
  await publish(server, 'cam-2')
  await publish(server, 'cam-1')
  t.equal((await fifth).seq, 6)
  t.same(seen.seqs, [1, 3, 6], 'only cam-1 events reach the handlers, replayed or live')
  t.equal(client.lastSeq, 6)
  t.same(seen.gaps, [])
})

t.test('a camera event type filter is re-sent on reconnect and filters the replay and the live stream', async t => {
  const server = await startServer(t)
  const gate = await WebSocketGate.start(server.url, t)
  const client = open(t, { url: gate.url, token: token('alice') })
  const seen = record(client)
  const types: string[] = []
  client.on('camera_event', event => types.push(event.event_type))
  await reach(client, 'live')
  const publishType = async (eventType: string): Promise<number> =>
    (await (await publishEvent(server, { camera_id: 'cam-1', event_type: eventType })).json() as { seq: number }).seq
  client.subscribe([], undefined, ['face_recognized'])
  t.match(await next(client, 'subscribed'), { camera_event_types: ['face_recognized'], camera_event_type_count: 1 })
  const first = next(client, 'camera_event')
  await publishType('motion')
  await publishType('face_recognized')
  t.equal((await first).seq, 2)

  await dropSocket(client, gate)
  await publishType('face_recognized')
  await publishType('motion')
  const resumed = next(client, 'connection_status', m => m.status === 'resumed')
  const resubscribed = next(client, 'subscribed')
  gate.unblock()
  await resumed
  t.match(await resubscribed, { camera_ids: null, camera_event_types: ['face_recognized'], camera_event_type_count: 1 }, 'the new connection has the type filter again')
  const live = next(client, 'camera_event', m => m.seq > 3)
  await publishType('motion')
  await publishType('face_recognized')
  t.equal((await live).seq, 6)
  t.same(seen.seqs, [2, 3, 6], 'only face_recognized events reach the handlers, replayed or live')
  t.same(types, ['face_recognized', 'face_recognized', 'face_recognized'])
  t.same(seen.gaps, [])
})

t.test('more missed than the service keeps: resync_required → a `resync` event and fresh statistics, no gap', async t => {
  const server = await startServer(t, { RESUME_HISTORY: 5, STATS_INTERVAL_MS: 100 })
  const gate = await WebSocketGate.start(server.url, t)
  const client = open(t, { url: gate.url, token: token('alice') })
  const seen = record(client)
  const order: string[] = []
  client.on('message', m => { if (m.type === 'statistics_update' || m.type === 'connection_status') order.push(`${m.type}:${String(m.status ?? '')}`) })
  client.on('resync', () => order.push('resync'))
  await reach(client, 'live')
  const first = next(client, 'camera_event')
  await publish(server)
  await first

  await dropSocket(client, gate)
  for (let i = 0; i < 7; i++) await publish(server)
  order.length = 0
  const resync = next(client, 'resync')
  const fresh = next(client, 'statistics_update', m => m.data.events_total === 8)
  gate.unblock()
  t.same(await resync, { lastSeq: 1, reason: 'messages after seq 1 are no longer kept; reload the current state' })
  t.equal((await fresh).data.events_today, 8, 'the statistics after the resync count every event')
  const at = order.indexOf('connection_status:resync_required')
  t.same(order.slice(at, at + 3), ['connection_status:resync_required', 'resync', 'statistics_update:'],
    'resync follows the resync_required status, right before the service\'s newest statistics')

  const ninth = next(client, 'camera_event')
  await publish(server)
  t.equal((await ninth).seq, 9)
  t.same(seen.seqs, [1, 9])
  t.same(seen.gaps, [], 'the next seq is a new baseline, not a gap')
  t.equal(seen.resyncs.length, 1)
})

t.test('resume: false reconnects without last_seq, and the missed range is reported as a gap', async t => {
  const server = await startServer(t)
  const gate = await WebSocketGate.start(server.url, t)
  const client = open(t, { url: gate.url, token: token('alice'), resume: false })
  const seen = record(client)
  await reach(client, 'live')
  const first = next(client, 'camera_event')
  await publish(server)
  await first

  await dropSocket(client, gate)
  await publish(server)
  await publish(server)
  gate.unblock()
  await reach(client, 'live')
  const fourth = next(client, 'camera_event')
  await publish(server)
  t.equal((await fourth).seq, 4)
  t.same(seen.gaps, [{ from: 2, to: 3 }])

  const fifth = next(client, 'camera_event')
  await publish(server)
  await fifth
  t.same(seen.seqs, [1, 4, 5])
  t.equal(seen.gaps.length, 1, 'no gap between consecutive events')
  t.same(seen.resumed, [], 'nothing was replayed')
})

t.test('a drain (server_restart): the client waits reconnect_in_ms and resumes on the next instance, on the same port', { skip: NEEDS_REDIS }, async t => {
  // Instances share seq and history through Redis, as behind a load balancer.
  const redis = await RedisServer.start(t)
  const config = testConfig({ REDIS_URL: redis.url, RECONNECT_SPREAD_MS: 300 })
  const first = await buildApp(config, { logger: false })
  t.teardown(async () => { await first.close() })
  await first.listen({ port: 0, host: '127.0.0.1' })
  const { port } = first.server.address() as AddressInfo
  const other = await startInstance(t, redis)

  // A restart jitter far above RECONNECT_SPREAD_MS: the scheduled attempt shows which delay was used.
  const client = open(t, { url: `http://127.0.0.1:${port}`, token: token('alice'), random: () => 0.99, restartJitterMs: 2000 })
  const seen = record(client)
  let notice: { reconnect_in_ms: number, at: number } | null = null
  client.on('connection_status', m => { if (m.status === 'server_restart') notice = { reconnect_in_ms: m.reconnect_in_ms ?? -1, at: Date.now() } })
  await reach(client, 'live')
  const one = next(client, 'camera_event')
  await publish(other)
  t.equal((await one).seq, 1)

  const before = Date.now()
  // Read when the client reports the loss: a short reconnect_in_ms may have passed by the time drain() returns.
  let scheduled: number | null = null
  const down = reach(client, 'connecting', change => {
    if (change.previous !== 'live') return false
    scheduled = client.nextAttemptAt
    return true
  })
  const drained = await first.drain()
  t.equal(drained.told, 1)
  t.match((await down).reason, /server restart/)
  t.ok(notice !== null, 'server_restart arrived before the close')
  const { reconnect_in_ms: delay, at } = notice as unknown as { reconnect_in_ms: number, at: number }
  t.ok(delay >= 0 && delay < 300, `reconnect_in_ms ${delay} is below RECONNECT_SPREAD_MS`)
  t.ok(scheduled !== null && scheduled >= before + delay && scheduled <= at + delay,
    'the next attempt is reconnect_in_ms after the notice, not the restart jitter')
  await first.close()

  // Published while this client has no connection, on another instance.
  t.equal(await publish(other), 2)
  t.equal(await publishAlert(other, { level: 'critical', message: 'door forced' }), 3)
  const resumed = next(client, 'connection_status', m => m.status === 'resumed')
  const second = await buildApp(config, { logger: false })
  t.teardown(async () => { await second.close() })
  await second.listen({ port, host: '127.0.0.1' })
  t.equal((await resumed).replayed, 2)
  const four = next(client, 'camera_event')
  await publish(other)
  await four
  t.same(seen.seqs, [1, 2, 3, 4])
  t.same(seen.gaps, [])
  t.same(seen.resyncs, [])
})

t.test('a drained single instance restarts with a new sequence: `resync`, and its seq 1 is a new baseline, not a gap', async t => {
  const config = testConfig({ RECONNECT_SPREAD_MS: 50 })
  const first = await buildApp(config, { logger: false })
  t.teardown(async () => { await first.close() })
  await first.listen({ port: 0, host: '127.0.0.1' })
  const { port } = first.server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  const client = open(t, { url, token: token('alice') })
  const seen = record(client)
  await reach(client, 'live')
  for (let i = 1; i <= 3; i++) {
    const event = next(client, 'camera_event')
    await publish({ url } as Server)
    await event
  }
  t.equal(client.lastSeq, 3)

  const down = reach(client, 'connecting', change => change.previous === 'live')
  await first.drain()
  await down
  await first.close()
  const resync = next(client, 'resync')
  const second = await buildApp(config, { logger: false })
  t.teardown(async () => { await second.close() })
  await second.listen({ port, host: '127.0.0.1' })
  t.equal((await resync).lastSeq, 3, 'the new instance cannot replay after seq 3: it never had it')
  const event = next(client, 'camera_event')
  await publish({ url } as Server)
  t.equal((await event).seq, 1)
  t.same(seen.seqs, [1, 2, 3, 1])
  t.same(seen.gaps, [])
  t.equal(client.lastSeq, 1, 'later reconnects resume after the new sequence')
})

t.test('no gaps are reported while a filter makes them expected', async t => {
  const server = await startServer(t)
  const client = open(t, { url: server.url, token: token('alice') })
  await reach(client, 'live')
  client.subscribe([], ['cam-1'])
  await next(client, 'subscribed')
  const gaps: SeqGap[] = []
  client.on('gap', gap => gaps.push(gap))
  await publishEvent(server, { camera_id: 'cam-1', event_type: 'motion' })
  await publishEvent(server, { camera_id: 'cam-2', event_type: 'motion' })
  const third = next(client, 'camera_event', m => m.seq === 3)
  await publishEvent(server, { camera_id: 'cam-1', event_type: 'motion' })
  await third
  t.same(gaps, [])
})

t.test('a missing pong counts as a dead connection and the client reconnects', async t => {
  const server = await startServer(t)
  const gate = await WebSocketGate.start(server.url, t)
  const client = open(t, { url: gate.url, token: token('alice'), pingIntervalMs: 20, pongTimeoutMs: 100 })
  await reach(client, 'live')
  const lost = reach(client, 'connecting')
  gate.freeze()
  t.match((await lost).reason, /no pong within 100 ms/)
  await reach(client, 'live')
  t.equal(gate.forwarded, 2)
})

t.test('1012 and 1013 from the service: reconnect within the restart jitter', async t => {
  for (const code of [1012, 1013]) {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    await once(wss, 'listening')
    t.teardown(() => { wss.close() })
    let connections = 0
    wss.on('connection', socket => {
      connections++
      socket.send(JSON.stringify({ type: 'connection_status', status: 'connected', timestamp: new Date().toISOString() }))
      if (connections === 1) socket.close(code, 'restarting')
    })
    const { port } = wss.address() as AddressInfo
    const client = open(t, { url: `http://127.0.0.1:${port}`, token: 'tok', random: () => 0.5, backoffBaseMs: 100_000, backoffMaxMs: 100_000 })
    const change = await reach(client, 'connecting', c => c.previous === 'live')
    t.equal(change.reason, 'restarting')
    t.ok(client.nextAttemptAt !== null && client.nextAttemptAt - Date.now() <= FAST.restartJitterMs, `${code}: jitter, not backoff`)
    await reach(client, 'live')
    t.equal(connections, 2)
    client.close()
  }
})

t.test('token_expiring from the service: getToken\'s tokens are sent as auth and accepted on the same connection', async t => {
  // Tokens live 60 s against a 120 s warning: the service warns as soon as
  // it has one, so every short-lived token is replaced at once.
  const server = await startServer(t, { TOKEN_REFRESH_WARNING_MS: 120_000 })
  const counting = countingWebSocket()
  const issued: string[] = []
  const client = open(t, {
    url: server.url,
    token: token('alice', { ttlMs: 60_000 }),
    getToken: () => {
      const fresh = token('alice', { ttlMs: issued.length < 2 ? 60_000 : 3_600_000 })
      issued.push(fresh)
      return fresh
    },
    WebSocket: counting.WebSocket
  })
  const refreshed: string[] = []
  client.on('connection_status', m => { if (m.status === 'token_refreshed') refreshed.push(String(m.expires_at)) })
  const errors: unknown[] = []
  client.on('error', e => errors.push(e))
  await waitFor(() => refreshed.length === 3, 'three token_refreshed answers')
  const expiries = issued.map(jwt => new Date(JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).exp * 1000).toISOString())
  t.same(refreshed, expiries, 'the service took each token getToken returned, in turn')
  t.equal(client.status, 'live')
  t.equal(counting.opened(), 1, 'on the same connection')
  t.same(errors, [])

  const event = next(client, 'camera_event')
  await publish(server)
  t.equal((await event).seq, 1, 'and it keeps delivering')
})

t.test('a scoped token and alerts for other users: seq skips are never reported as gaps, live or across a resumed reconnect', async t => {
  const server = await startServer(t)
  const gate = await WebSocketGate.start(server.url, t)
  const client = open(t, { url: gate.url, token: token('guard', { cameras: ['site-a/*'] }) })
  const seen = record(client)
  await reach(client, 'live')
  /** Publishes what the guard may not see around each message it may; returns the latter's seqs. */
  async function mixed (): Promise<number[]> {
    await publish(server, 'site-b/cam1')
    const own = await publish(server, 'site-a/cam1')
    await publishAlert(server, { level: 'info', message: 'for bob only', user_id: 'bob' })
    await publishAlert(server, { level: 'warning', message: 'site-b camera offline', camera_id: 'site-b/cam1' })
    const forGuard = await publishAlert(server, { level: 'info', message: 'for the guard', user_id: 'guard' })
    return [own, forGuard]
  }
  const live = await mixed()
  const last = next(client, 'alert', m => m.seq === live[1])
  await last

  await dropSocket(client, gate)
  const missed = await mixed()
  const resumed = next(client, 'connection_status', m => m.status === 'resumed')
  gate.unblock()
  t.equal((await resumed).replayed, 2, 'the replay holds what the guard was entitled to')
  const after = await mixed()
  await next(client, 'alert', m => m.seq === after[1])
  t.same(seen.seqs, [...live, ...missed, ...after])
  t.same(seen.gaps, [], 'no gap: every skipped seq was another camera\'s or another user\'s')
  t.same(seen.resyncs, [])
})
