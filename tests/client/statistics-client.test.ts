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
import { publishEvent, startServer, testConfig, token, waitFor } from '../helper.js'
import { WebSocketGate } from './websocket-gate.js'

interface Test { teardown (fn: () => unknown): void }

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

async function next<K extends 'camera_event' | 'statistics_update' | 'subscribed' | 'gap'> (client: StatisticsClient, type: K, predicate: (payload: any) => boolean = () => true): Promise<any> {
  return await new Promise(resolve => {
    const off = client.on(type, (payload: unknown) => {
      if (predicate(payload)) {
        off()
        resolve(payload)
      }
    })
  })
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

t.test('a seq gap across a reconnect is reported with the missing range', async t => {
  const server = await startServer(t)
  const gate = await WebSocketGate.start(server.url, t)
  const client = open(t, { url: gate.url, token: token('alice') })
  await reach(client, 'live')
  const first = next(client, 'camera_event')
  await publishEvent(server, { camera_id: 'cam-1', event_type: 'motion' })
  t.equal((await first).seq, 1)

  const down = reach(client, 'connecting')
  gate.block()
  await down
  await publishEvent(server, { camera_id: 'cam-1', event_type: 'motion' })
  await publishEvent(server, { camera_id: 'cam-1', event_type: 'motion' })
  gate.unblock()
  await reach(client, 'live')

  const gaps: SeqGap[] = []
  client.on('gap', gap => gaps.push(gap))
  const fourth = next(client, 'camera_event')
  await publishEvent(server, { camera_id: 'cam-1', event_type: 'motion' })
  t.equal((await fourth).seq, 4)
  t.same(gaps, [{ from: 2, to: 3 }])

  const fifth = next(client, 'camera_event')
  await publishEvent(server, { camera_id: 'cam-1', event_type: 'motion' })
  await fifth
  t.equal(gaps.length, 1, 'no gap between consecutive events')
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

t.test('token_expiring: the client asks getToken and sends the new token on the same connection', async t => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await once(wss, 'listening')
  t.teardown(() => { wss.close() })
  const received = new Promise<Record<string, unknown>>(resolve => {
    wss.on('connection', (socket, request) => {
      t.equal(new URL(request.url ?? '', 'http://x').searchParams.get('token'), 'first-token')
      socket.on('message', data => {
        const message = JSON.parse(data.toString())
        if (message.type === 'auth') resolve(message)
      })
      socket.send(JSON.stringify({ type: 'connection_status', status: 'connected', timestamp: new Date().toISOString() }))
      socket.send(JSON.stringify({ type: 'connection_status', status: 'token_expiring', expires_at: new Date(Date.now() + 60_000).toISOString(), timestamp: new Date().toISOString() }))
    })
  })
  const { port } = wss.address() as AddressInfo
  let calls = 0
  open(t, { url: `ws://127.0.0.1:${port}`, token: 'first-token', getToken: () => { calls++; return 'fresh-token' } })
  t.same(await received, { type: 'auth', token: 'fresh-token' })
  t.equal(calls, 1)
})
