import t, { type Test as TapTest } from 'tap'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import type { FastifyBaseLogger } from 'fastify'
import WebSocket, { WebSocketServer } from 'ws'
import { TokenExpiry } from '../../src/auth/token-expiry.js'
import { LocalSlotLimiter } from '../../src/backplane/slot-limiter.js'
import { MemoryBus } from '../../src/bus/memory-bus.js'
import { MemoryHistory } from '../../src/history/memory-history.js'
import { ConnectionHub } from '../../src/hub/connection-hub.js'
import { ServiceMetrics } from '../../src/metrics/service-metrics.js'
import { CloseCode } from '../../src/protocol/close-codes.js'
import { encode } from '../../src/protocol/codec.js'
import { Resumer } from '../../src/resume/resumer.js'
import type { SessionContext } from '../../src/session/context.js'
import { abandonSession, openSession, type Admitted, type MessageListener } from '../../src/session/session.js'
import { Client, LogCapture, waitFor } from '../helper.js'
import { MemoryPresence } from '../../src/backplane/memory-presence.js'
import { PresenceFeed } from '../../src/presence/presence-feed.js'
import { CameraScope } from '../../src/protocol/camera-scope.js'

interface Setup {
  ctx: SessionContext
  hub: ConnectionHub
  slots: LocalSlotLimiter
  tokens: TokenExpiry
  bus: MemoryBus
  metrics: ServiceMetrics
  logs: LogCapture
  /** Connects a client, admits it as the route would (a slot, then openSession), and waits for `connected`. */
  open: (admitted?: Partial<Admitted>) => Promise<{ client: Client, id: string, onMessage: MessageListener }>
}

interface Options {
  messageRateLimit?: number
  graceMs?: number
  statistics?: Buffer | null
  verifyToken?: SessionContext['verifyToken']
}

/**
 * A session served on a plain ws server on port 0, with the service's real
 * parts: hub, slot limiter, bus, history, resumer, token wheel, metrics and
 * a pino logger.
 */
async function setup (t: TapTest, options: Options = {}): Promise<Setup> {
  const hub = new ConnectionHub()
  const presence: MemoryPresence = new MemoryPresence(() => slots.users())
  const slots: LocalSlotLimiter = new LocalSlotLimiter(1, presence.changed)
  const bus = new MemoryBus()
  const history = new MemoryHistory({ maxMessages: 100, windowMs: 60_000 })
  bus.onMessage(message => { history.append(message); hub.deliver(message) })
  const resumer = new Resumer({
    history,
    stream: bus.stream,
    holdLimit: 100,
    graceMs: options.graceMs ?? 0,
    statisticsFrame: () => options.statistics ?? null,
    isOpen: member => hub.get(member.connection.id) === member
  })
  t.teardown(() => { resumer.stop() })
  const tokens = new TokenExpiry({ warningMs: 0, skewMs: 0, onWarn: () => {}, onExpire: () => {} })
  const metrics = new ServiceMetrics(() => hub)
  const logs = new LogCapture()
  const feed = new PresenceFeed({ presence, offlineDelayMs: 0, isOpen: member => hub.get(member.connection.id) === member })
  t.teardown(() => { feed.stop() })
  const ctx: SessionContext = {
    hub,
    slots,
    resumer,
    tokens,
    metrics,
    log: pino({ level: 'info' }, logs) as unknown as FastifyBaseLogger,
    messageRateLimit: options.messageRateLimit ?? 0,
    maxCameraIds: 10,
    statsIntervalMs: 5000,
    verifyToken: options.verifyToken ?? (() => ({ ok: false, reason: 'no tokens in this test' })),
    stream: () => bus.stream,
    latestStatisticsFrame: () => options.statistics ?? null,
    presence: feed
  }
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await once(server, 'listening')
  t.teardown(async () => {
    for (const socket of server.clients) socket.terminate()
    await new Promise(resolve => server.close(resolve))
  })
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`
  let n = 0
  const open: Setup['open'] = async (overrides = {}) => {
    const id = `c${++n}`
    const admitted: Admitted = { id, principal: { userId: 'alice', roles: [], expiresAt: null, cameras: CameraScope.ALL }, reqId: `req-${n}`, lastSeq: null, stream: undefined, ...overrides }
    const accepted = once(server, 'connection') as Promise<[WebSocket]>
    const client = new Client(url)
    t.teardown(() => { client.ws.terminate() })
    const [socket] = await accepted
    t.same(await slots.acquire(admitted.principal.userId, id), { ok: true }, 'the route took a slot')
    const onMessage = openSession(ctx, socket, admitted)
    await client.next(m => m.type === 'connection_status' && m.status === 'connected')
    return { client, id, onMessage }
  }
  return { ctx, hub, slots, tokens, bus, metrics, logs, open }
}

const event = { type: 'camera_event', timestamp: '2026-01-01T00:00:00.000Z', camera_id: 'cam_1', event_type: 'motion', data: {} } as const

function sentCount (text: string, type: string): number {
  const line = text.split('\n').find(l => l.startsWith(`push_messages_sent_total{type="${type}"} `))
  return line === undefined ? 0 : Number(line.split(' ')[1])
}

t.test('the greeting is connected (with id, user and stream), then the latest statistics', async t => {
  const statistics = encode({ type: 'statistics_update', timestamp: '2026-01-01T00:00:00.000Z', data: { n: 1 } })
  const { open, bus, metrics } = await setup(t, { statistics })
  const { client, id } = await open()
  t.match(client.messages[0], { type: 'connection_status', status: 'connected', connection_id: id, user_id: 'alice', stream: bus.stream })
  t.same(await client.next(), { type: 'statistics_update', timestamp: '2026-01-01T00:00:00.000Z', data: { n: 1 } })
  const text = await metrics.render()
  t.equal(sentCount(text, 'connection_status'), 1)
  t.equal(sentCount(text, 'statistics_update'), 1)
})

t.test('without statistics yet the greeting is connected alone, and live messages follow', async t => {
  const { open, bus } = await setup(t)
  const { client } = await open()
  const { seq } = await bus.publish(event)
  t.match(await client.next(), { type: 'camera_event', seq })
  t.equal(client.messages.length, 2)
})

t.test('an open session is in the hub and its token on the wheel; closing frees the hub entry, the token and the slot', async t => {
  const { open, hub, slots, tokens } = await setup(t)
  const { client, id } = await open({ principal: { userId: 'alice', roles: [], expiresAt: Date.now() + 60_000, cameras: CameraScope.ALL } })
  t.ok(hub.get(id))
  t.equal(tokens.size, 1)
  t.same(await slots.acquire('alice', 'another'), { ok: false, reason: 'connection_limit', limit: 1 }, 'the session holds the slot')
  client.ws.close()
  await waitFor(() => hub.get(id) === undefined, 'the session to close')
  t.equal(tokens.size, 0)
  t.same(await slots.acquire('alice', 'another'), { ok: true })
})

t.test('a token without expiry is not put on the wheel', async t => {
  const { open, tokens } = await setup(t)
  await open()
  t.equal(tokens.size, 0)
})

t.test('open and close are logged with the request id, user and connection id; the close with its code and duration', async t => {
  const { open, logs, hub } = await setup(t)
  const { client, id } = await open({ reqId: 'req-42' })
  client.ws.close(4000)
  await waitFor(() => hub.get(id) === undefined, 'the session to close')
  await waitFor(() => logs.lines.some(l => l.msg === 'websocket connection closed'), 'the close line')
  t.match(logs.lines.find(l => l.msg === 'websocket connection opened'), { reqId: 'req-42', userId: 'alice', connectionId: id })
  t.match(logs.lines.find(l => l.msg === 'websocket connection closed'), { reqId: 'req-42', connectionId: id, closeCode: 4000, durationMs: Number })
})

t.test('with last_seq the missed messages are replayed, then resumed', async t => {
  const { open, bus } = await setup(t)
  await bus.publish(event)
  await bus.publish(event)
  await bus.publish(event)
  const { client } = await open({ lastSeq: 1 })
  t.match(await client.next(), { type: 'camera_event', seq: 2 })
  t.match(await client.next(), { type: 'camera_event', seq: 3 })
  t.match(await client.next(), { type: 'connection_status', status: 'resumed', replayed: 2 })
})

t.test('a last_seq from another stream gets resync_required', async t => {
  const { open, bus } = await setup(t)
  await bus.publish(event)
  const { client } = await open({ lastSeq: 0, stream: 'an-earlier-process' })
  t.match(await client.next(), { type: 'connection_status', status: 'resync_required' })
})

t.test('a last_seq that is not a whole number gets an error and a plain connection', async t => {
  const { open, bus } = await setup(t)
  const { client } = await open({ lastSeq: Number.NaN })
  t.match(await client.next(), { type: 'error', code: 'invalid_message', message: /last_seq must be a whole number/ })
  const { seq } = await bus.publish(event)
  t.match(await client.next(), { type: 'camera_event', seq })
})

t.test('a first resume message is taken by the resumer; a later one is refused', async t => {
  const { open, bus } = await setup(t, { graceMs: 60_000 })
  await bus.publish(event)
  const { client } = await open()
  client.send({ type: 'resume', last_seq: 0, stream: bus.stream })
  t.match(await client.next(), { type: 'camera_event', seq: 1 })
  t.match(await client.next(), { type: 'connection_status', status: 'resumed', replayed: 1 })
  client.send({ type: 'resume', last_seq: 0 })
  t.match(await client.next(), { type: 'error', code: 'resume_not_allowed' })
})

t.test('any other first message ends the wait for a resume and is handled', async t => {
  const { open, bus } = await setup(t, { graceMs: 60_000 })
  const { client } = await open()
  const { seq } = await bus.publish(event)
  client.send({ type: 'ping', timestamp: 'x' })
  t.match(await client.next(), { type: 'camera_event', seq }, 'the held live message goes first')
  t.match(await client.next(), { type: 'pong', echo: 'x' })
})

t.test('a frame that cannot be parsed gets its error and the connection stays open', async t => {
  const { open } = await setup(t)
  const { client } = await open()
  client.send('not json')
  t.match(await client.next(), { type: 'error', code: 'invalid_json' })
  client.ws.send(Buffer.from('{}'), { binary: true })
  t.match(await client.next(), { type: 'error', code: 'unsupported_data' })
  await client.roundTrip()
})

t.test('more messages than the rate limit closes the connection with 4429', async t => {
  const { open } = await setup(t, { messageRateLimit: 2 })
  const { client } = await open()
  for (let i = 0; i < 3; i++) client.send({ type: 'ping', timestamp: String(i) })
  t.match(await client.closed, { code: CloseCode.RATE_LIMITED, reason: 'too many messages: at most 2 per second' })
})

t.test('the listener returned handles messages that arrived during admission', async t => {
  const { open } = await setup(t)
  const { client, onMessage } = await open()
  onMessage(Buffer.from('{"type":"ping","timestamp":"early"}'), false)
  t.match(await client.nextOfType('pong'), { echo: 'early' })
})

t.test('a pong marks the member alive for the heartbeat', async t => {
  const { open, hub } = await setup(t)
  const { id } = await open()
  const member = hub.get(id)!
  member.alive = false
  member.connection.ping()
  await waitFor(() => member.alive, 'the pong')
  t.ok(member.alive)
})

t.test('a failure while handling a message closes that connection with 1011 and is logged; others go on', async t => {
  const { open, logs } = await setup(t, { verifyToken: () => { throw new Error('verifier broke') } })
  const { client: victim } = await open()
  const { client: other } = await open({ principal: { userId: 'bob', roles: [], expiresAt: null, cameras: CameraScope.ALL } })
  victim.send({ type: 'auth', token: 'x' })
  t.match(await victim.closed, { code: CloseCode.INTERNAL_ERROR })
  t.match(logs.lines.find(l => l.level === 50), { msg: 'closing connection: handling a message failed', err: { message: 'verifier broke' } })
  await other.roundTrip()
})

t.test('abandoning a half-opened session frees its hub entry, token and slot', async t => {
  const { open, ctx, hub, slots, tokens } = await setup(t)
  const { id } = await open({ principal: { userId: 'alice', roles: [], expiresAt: Date.now() + 60_000, cameras: CameraScope.ALL } })
  abandonSession(ctx, id, 'alice')
  t.equal(hub.get(id), undefined)
  t.equal(tokens.size, 0)
  t.same(await slots.acquire('alice', 'next'), { ok: true })
})

t.test('abandoning what was never opened is harmless', async t => {
  const { ctx, slots } = await setup(t)
  await slots.acquire('alice', 'c9')
  abandonSession(ctx, 'c9', 'alice')
  abandonSession(ctx, 'c9', 'alice')
  t.same(await slots.acquire('alice', 'next'), { ok: true }, 'the slot it held is free, once')
})
