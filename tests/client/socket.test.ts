import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import WebSocket, { WebSocketServer, type WebSocket as ServerSocket } from 'ws'
import { ClientSocket, type SocketHandlers, type SocketTimings } from '../../src/client/socket.js'
import type { AnyMessage, WebSocketConstructor } from '../../src/client/types.js'
import type { Test } from '../helper.js'

const WS = WebSocket as unknown as WebSocketConstructor
const SLOW: SocketTimings = { connectTimeoutMs: 60_000, pingIntervalMs: 60_000, pongTimeoutMs: 60_000 }
const CONNECTED = JSON.stringify({ type: 'connection_status', status: 'connected' })

/** A real WebSocket server on port 0 whose side of each connection the test drives. */
async function serve (t: Test): Promise<{ url: string, next: () => Promise<ServerSocket> }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await once(server, 'listening')
  t.teardown(async () => {
    for (const client of server.clients) client.terminate()
    await new Promise(resolve => server.close(resolve))
  })
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    next: async () => (await once(server, 'connection'))[0] as ServerSocket
  }
}

/** The messages a server-side socket receives, parsed, as they come. */
function inbox (socket: ServerSocket): { received: AnyMessage[], next: () => Promise<AnyMessage> } {
  const received: AnyMessage[] = []
  const unread: AnyMessage[] = []
  const waiting: Array<(message: AnyMessage) => void> = []
  socket.on('message', data => {
    const message = JSON.parse(String(data)) as AnyMessage
    received.push(message)
    const reader = waiting.shift()
    if (reader !== undefined) reader(message)
    else unread.push(message)
  })
  const next = async (): Promise<AnyMessage> => {
    const message = unread.shift()
    return message !== undefined ? message : await new Promise(resolve => waiting.push(resolve))
  }
  return { received, next }
}

/** Handlers that record what the socket reports. */
function recorder (): SocketHandlers & { messages: AnyMessage[], ended: Promise<[number, string, boolean]> } {
  let end!: (value: [number, string, boolean]) => void
  const ended = new Promise<[number, string, boolean]>(resolve => { end = resolve })
  const messages: AnyMessage[] = []
  return { messages, ended, onMessage: message => messages.push(message), onEnd: (code, reason, wasLive) => { end([code, reason, wasLive]) } }
}

/** Opens a ClientSocket, waits for the server's side, says `connected` and marks it live. */
async function openLive (t: Test, timings: SocketTimings = SLOW): Promise<{ socket: ClientSocket, peer: ServerSocket, handlers: ReturnType<typeof recorder> }> {
  const server = await serve(t)
  const handlers = recorder()
  let live!: () => void
  const isLive = new Promise<void>(resolve => { live = resolve })
  const onMessage = handlers.onMessage
  handlers.onMessage = message => {
    onMessage(message)
    if (message.status === 'connected') live()
  }
  const peerP = server.next()
  const socket = new ClientSocket(WS, server.url, timings, handlers)
  t.teardown(() => { socket.abandon() })
  const peer = await peerP
  peer.send(CONNECTED)
  await isLive
  socket.markLive()
  return { socket, peer, handlers }
}

t.test('sends only once marked live; sendIfOpen sends before that', async t => {
  const server = await serve(t)
  const peerP = server.next()
  let opened!: () => void
  const open = new Promise<void>(resolve => { opened = resolve })
  const socket = new ClientSocket(WS, server.url, SLOW, { onMessage: () => { opened() }, onEnd: () => {} })
  t.teardown(() => { socket.abandon() })
  const peer = await peerP
  const box = inbox(peer)
  peer.send(CONNECTED)
  await open
  t.equal(socket.live, false)
  socket.send({ type: 'early' })
  socket.sendIfOpen({ type: 'auth', token: 'x' })
  socket.markLive()
  t.equal(socket.live, true)
  socket.send({ type: 'late' })
  await box.next()
  await box.next()
  t.same(box.received.map(m => m.type), ['auth', 'late'], 'the message sent before live was dropped')
})

t.test('passes on messages that are JSON objects with a string type, and ignores the rest', async t => {
  const { peer, handlers } = await openLive(t)
  for (const data of ['not json', '{"no":"type"}', 'null', '[1]', '{"type":7}']) peer.send(data)
  const last = new Promise<void>(resolve => {
    const onMessage = handlers.onMessage
    handlers.onMessage = message => { onMessage(message); if (message.type === 'last') resolve() }
  })
  peer.send(JSON.stringify({ type: 'last', n: 1 }))
  await last
  t.same(handlers.messages.map(m => m.type), ['connection_status', 'last'])
})

t.test('keepAlive(true) pings at once and then on the interval while pongs come back', async t => {
  const { socket, peer, handlers } = await openLive(t, { ...SLOW, pingIntervalMs: 10, pongTimeoutMs: 30_000 })
  const box = inbox(peer)
  peer.on('message', data => {
    const message = JSON.parse(String(data)) as AnyMessage
    if (message.type === 'ping') peer.send(JSON.stringify({ type: 'pong', timestamp: message.timestamp }))
  })
  socket.keepAlive(true)
  // A ping waits while the previous one is unanswered: three pings mean the pongs were seen.
  for (let i = 0; i < 3; i++) t.equal((await box.next()).type, 'ping')
  t.equal(socket.live, true, 'still live after three answered pings')
  t.ok(handlers.messages.some(m => m.type === 'pong'), 'pongs are passed on too')
})

t.test('keepAlive(false) waits for the interval before the first ping', async t => {
  const { socket, peer } = await openLive(t, { ...SLOW, pingIntervalMs: 20 })
  const box = inbox(peer)
  socket.keepAlive(false)
  socket.send({ type: 'first' })
  t.equal((await box.next()).type, 'first')
  t.equal((await box.next()).type, 'ping')
})

t.test('no pong within pongTimeoutMs: the socket ends as dead (1006, was live) and the server sees it go', async t => {
  const { socket, peer, handlers } = await openLive(t, { ...SLOW, pongTimeoutMs: 20 })
  const closed = once(peer, 'close')
  socket.keepAlive(true)
  const [code, reason, wasLive] = await handlers.ended
  t.equal(code, 1006)
  t.match(reason, /no pong within 20 ms: the connection is dead/)
  t.equal(wasLive, true)
  t.equal(socket.live, false)
  await closed
})

t.test('not live within connectTimeoutMs: the attempt ends as failed (1006, not live)', async t => {
  const server = await serve(t)
  const handlers = recorder()
  const peer = server.next()
  const socket = new ClientSocket(WS, server.url, { ...SLOW, connectTimeoutMs: 20 }, handlers)
  t.teardown(() => { socket.abandon() })
  await peer
  const [code, reason, wasLive] = await handlers.ended
  t.same([code, reason, wasLive], [1006, 'not connected within 20 ms', false])
})

t.test('a close from the service reports its code and reason, or words for the code', async t => {
  const first = await openLive(t)
  first.peer.close(4401, 'token expired')
  t.same(await first.handlers.ended, [4401, 'token expired', true])

  const second = await openLive(t)
  second.peer.close(1008)
  t.same(await second.handlers.ended, [1008, 'the connection closed with code 1008', true])

  const third = await openLive(t)
  third.peer.terminate()
  t.same(await third.handlers.ended, [1006, 'the connection was lost or could not be opened', true])
})

t.test('abandon() ends the connection at once and reports nothing', async t => {
  const { socket, peer, handlers } = await openLive(t)
  let ended = false
  void handlers.ended.then(() => { ended = true })
  const closed = once(peer, 'close')
  socket.abandon()
  socket.abandon()
  t.equal(socket.live, false)
  await closed
  socket.send({ type: 'after' })
  t.equal(ended, false, 'no onEnd for an abandoned socket')
})

t.test('a URL the WebSocket refuses throws from the constructor', async t => {
  t.throws(() => new ClientSocket(WS, 'not a url', SLOW, recorder()))
})
