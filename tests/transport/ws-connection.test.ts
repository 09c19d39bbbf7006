import t from 'tap'
import { once } from 'node:events'
import type { AddressInfo, Socket } from 'node:net'
import WebSocket, { WebSocketServer } from 'ws'
import { OutboundFrame } from '../../src/hub/outbound-frame.js'
import { newCounters } from '../../src/hub/outbound-queue.js'
import { frameText } from '../../src/transport/frame.js'
import { releaseUpgrade, WsConnection } from '../../src/transport/ws-connection.js'
import { waitFor, type Test } from '../helper.js'

interface Peer {
  /** The server's side, seen through WsConnection. */
  connection: WsConnection
  serverSocket: WebSocket
  client: WebSocket
  /** Text messages the client received, in order. */
  received: string[]
  closed: Promise<{ code: number, reason: string }>
}

/** A plain ws server on port 0 whose connections tests open one by one. */
async function wsServer (t: Test): Promise<(options?: { limits?: { softBytes: number, hardBytes: number } }) => Promise<Peer>> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await once(server, 'listening')
  t.teardown(async () => {
    for (const client of server.clients) client.terminate()
    await new Promise(resolve => server.close(resolve))
  })
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`
  let n = 0
  return async (options = {}) => {
    const accepted = once(server, 'connection') as Promise<[WebSocket]>
    const client = new WebSocket(url)
    client.on('error', () => {})
    const received: string[] = []
    client.on('message', (data, isBinary) => { received.push(isBinary ? '<binary>' : data.toString()) })
    const closed = new Promise<{ code: number, reason: string }>(resolve => {
      client.on('close', (code, reason) => { resolve({ code, reason: reason.toString() }) })
    })
    const [serverSocket] = await accepted
    await once(client, 'open')
    const outbound = { limits: options.limits ?? { softBytes: 1024 * 1024, hardBytes: 8 * 1024 * 1024 }, counters: newCounters() }
    const connection = new WsConnection(`c${++n}`, 'alice', serverSocket, outbound)
    return { connection, serverSocket, client, received, closed }
  }
}

t.test('a sent frame arrives as one text message', async t => {
  const open = await wsServer(t)
  const peer = await open()
  peer.connection.send(Buffer.from('{"type":"pong"}'))
  await waitFor(() => peer.received.length === 1, 'the message')
  t.same(peer.received, ['{"type":"pong"}'])
  t.equal(peer.connection.id, 'c1')
  t.equal(peer.connection.userId, 'alice')
})

t.test('frames sent in one tick arrive in order', async t => {
  const open = await wsServer(t)
  const peer = await open()
  for (let i = 0; i < 5; i++) peer.connection.send(Buffer.from(String(i)))
  await waitFor(() => peer.received.length === 5, 'five messages')
  t.same(peer.received, ['0', '1', '2', '3', '4'])
})

t.test('a shared frame is framed once and the same wire bytes go to every connection', async t => {
  const open = await wsServer(t)
  const a = await open()
  const b = await open()
  const frame = new OutboundFrame(Buffer.from('{"seq":1}'))
  a.connection.sendShared(frame)
  const wire = frame.wire
  t.same(wire, frameText(Buffer.from('{"seq":1}')), 'the wire form is cached on the frame')
  b.connection.sendShared(frame)
  t.equal(frame.wire, wire, 'not framed again')
  await waitFor(() => a.received.length === 1 && b.received.length === 1, 'both messages')
  t.same([a.received, b.received], [['{"seq":1}'], ['{"seq":1}']])
})

t.test('a cached wire form is what goes out', async t => {
  const open = await wsServer(t)
  const peer = await open()
  const frame = new OutboundFrame(Buffer.from('payload'))
  frame.wire = frameText(Buffer.from('cached'))
  peer.connection.sendShared(frame)
  await waitFor(() => peer.received.length === 1, 'the message')
  t.same(peer.received, ['cached'])
})

t.test('a combined frame arrives as its parts, in order, each its own message', async t => {
  const open = await wsServer(t)
  const peer = await open()
  const first = new OutboundFrame(Buffer.from('"a"'))
  const combined = OutboundFrame.combine([first, new OutboundFrame(Buffer.from('"b"')), new OutboundFrame(Buffer.from('"c"'))])
  peer.connection.sendShared(combined)
  await waitFor(() => peer.received.length === 3, 'three messages')
  t.same(peer.received, ['"a"', '"b"', '"c"'])
  t.same(first.wire, frameText(Buffer.from('"a"')), 'each part keeps its own wire form for other combinations')
})

t.test('close sends what is due this tick before the close frame, with the code and reason', async t => {
  const open = await wsServer(t)
  const peer = await open()
  peer.connection.send(Buffer.from('"last words"'))
  peer.connection.close(4000, 'bye')
  t.same(await peer.closed, { code: 4000, reason: 'bye' })
  t.same(peer.received, ['"last words"'])
})

t.test('nothing is sent once the socket is no longer open', async t => {
  const open = await wsServer(t)
  const peer = await open()
  peer.connection.close(1000, 'done')
  t.equal(peer.connection.open, false)
  peer.connection.send(Buffer.from('"late"'))
  peer.connection.sendShared(new OutboundFrame(Buffer.from('"late shared"')))
  peer.connection.ping()
  t.same(await peer.closed, { code: 1000, reason: 'done' })
  t.same(peer.received, [])
})

t.test('terminate drops the connection without a close frame', async t => {
  const open = await wsServer(t)
  const peer = await open()
  peer.connection.send(Buffer.from('"never"'))
  peer.connection.terminate()
  t.equal((await peer.closed).code, 1006)
})

t.test('ping reaches the client as a protocol ping', async t => {
  const open = await wsServer(t)
  const peer = await open()
  const pinged = once(peer.client, 'ping')
  peer.connection.ping()
  await pinged
  t.pass('the client got a ping')
})

t.test('a slow consumer is closed with 1013', async t => {
  const open = await wsServer(t)
  const peer = await open()
  peer.connection.closeSlow()
  t.same(await peer.closed, { code: 1013, reason: 'slow consumer' })
})

t.test('bytes held back for a client that stopped reading count in bufferedAmount, up to the hard limit', async t => {
  const open = await wsServer(t)
  const peer = await open({ limits: { softBytes: 1024, hardBytes: 64 * 1024 * 1024 } })
  ;(peer.client as unknown as { _socket: Socket })._socket.pause()
  t.equal(peer.connection.bufferedAmount, 0)
  const chunk = Buffer.alloc(64 * 1024, 'x')
  // The kernel's buffers fill first; then the socket's, then the queue's.
  for (let i = 0; i < 2000 && peer.connection.bufferedAmount < 4 * 1024 * 1024; i++) {
    peer.connection.send(chunk)
    await new Promise(resolve => setImmediate(resolve))
  }
  t.ok(peer.connection.bufferedAmount >= 4 * 1024 * 1024, `${peer.connection.bufferedAmount} bytes buffered`)
  t.ok(peer.connection.writableLength <= peer.connection.bufferedAmount, 'the socket\'s own part is within it')
})

t.test('releaseUpgrade lets go of the HTTP response and keeps one error listener that terminates', async t => {
  const open = await wsServer(t)
  const peer = await open()
  const raw = (peer.serverSocket as unknown as { _socket: Socket & { _httpMessage?: unknown } })._socket
  let detached: unknown = null
  raw._httpMessage = { detachSocket: (socket: unknown) => { detached = socket } }
  peer.serverSocket.on('error', () => { throw new Error('the old listener must be gone') })
  releaseUpgrade(peer.serverSocket)
  t.equal(detached, raw, 'the response let go of the socket')
  t.equal(raw._httpMessage, null)
  t.equal(peer.serverSocket.listenerCount('error'), 1)
  peer.serverSocket.emit('error', new Error('bad frame'))
  t.equal((await peer.closed).code, 1006, 'the socket was terminated')
})

t.test('releaseUpgrade on a socket without an HTTP response only replaces the error listener', async t => {
  const open = await wsServer(t)
  const peer = await open()
  releaseUpgrade(peer.serverSocket)
  t.equal(peer.serverSocket.listenerCount('error'), 1)
  peer.serverSocket.emit('error', new Error('x'))
  t.equal((await peer.closed).code, 1006)
})
