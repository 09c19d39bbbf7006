import { once } from 'node:events'
import { request as httpRequest } from 'node:http'
import { connect as netConnect, type Socket } from 'node:net'
import t from 'tap'
import WebSocket from 'ws'
import { Client, connect, startServer, token, tryUpgrade, waitFor, type Server, type Test } from '../helper.js'

/** A raw TCP socket from `localAddress` that records what it receives and when it closes. */
interface RawSocket { socket: Socket, data: string, closed: boolean }
async function openRaw (t: Test, server: Server, send: string, localAddress = '127.0.0.1'): Promise<RawSocket> {
  const socket = netConnect({ host: '127.0.0.1', port: server.port, localAddress })
  const raw: RawSocket = { socket, data: '', closed: false }
  socket.on('data', chunk => { raw.data += chunk.toString() })
  socket.on('close', () => { raw.closed = true })
  socket.on('error', () => {})
  t.teardown(() => { socket.destroy() })
  await once(socket, 'connect')
  socket.write(send)
  return raw
}

/** GET `path` from `localAddress` with node:http (fetch cannot pick a source address). */
async function get (server: Server, path: string, localAddress: string): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path, localAddress, agent: false }, res => {
      let body = ''
      res.on('data', chunk => { body += chunk })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('a slowloris from one address is capped at MAX_PENDING_PER_IP; other addresses still get /healthz', async t => {
  const server = await startServer(t, { MAX_PENDING_PER_IP: 20, HEADERS_TIMEOUT_MS: 60_000, REQUEST_TIMEOUT_MS: 60_000 })
  const sockets: RawSocket[] = []
  for (let i = 0; i < 60; i++) sockets.push(await openRaw(t, server, 'GET / HTTP/1.1\r\n'))

  await waitFor(() => sockets.filter(s => s.closed).length === 40, 'the 40 sockets over the cap to be closed')
  const refused = sockets.filter(s => s.closed)
  t.ok(refused.every(s => s.data.startsWith('HTTP/1.1 429 ')), 'each is answered 429')
  t.match(JSON.parse(refused[0].data.split('\r\n\r\n')[1]), { statusCode: 429, code: 'PUSH_TOO_MANY_PENDING', message: /at most 20 .*MAX_PENDING_PER_IP/ })
  t.equal(server.app.pendingGuard.pending('127.0.0.1'), 20, 'the first 20 are held, no more')

  const health = await get(server, '/healthz', '127.0.0.2')
  t.same([health.status, JSON.parse(health.body)], [200, { status: 'ok' }], '/healthz answers another address while 127.0.0.1 is at its cap')
  t.equal(sockets.filter(s => s.closed).length, 40, 'the 20 held sockets were still open then')

  // Once they are gone the address may connect again.
  for (const s of sockets) s.socket.destroy()
  await waitFor(() => server.app.pendingGuard.pending('127.0.0.1') === 0, 'the held sockets to be released')
  t.equal((await get(server, '/healthz', '127.0.0.1')).status, 200)
})

t.test('WebSockets do not count against their address once upgraded', async t => {
  const server = await startServer(t, { MAX_PENDING_PER_IP: 2 })
  const clients: Client[] = []
  for (let i = 0; i < 5; i++) clients.push(await connect(server, t, `user-${i}`))
  t.equal(server.app.pendingGuard.pending('127.0.0.1'), 0)
  t.equal((await get(server, '/healthz', '127.0.0.1')).status, 200)
})

t.test('half-sent requests are answered 408 and closed after HEADERS_TIMEOUT_MS / REQUEST_TIMEOUT_MS', async t => {
  const server = await startServer(t, { HEADERS_TIMEOUT_MS: 300, REQUEST_TIMEOUT_MS: 600 })
  // A WebSocket open all along is not a request in progress: it stays.
  const client = await connect(server, t)
  const headers = await openRaw(t, server, 'GET /healthz HTTP/1.1\r\nHost: x\r\n')
  const body = await openRaw(t, server, `POST /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token('camera-manager', { roles: ['publisher'] })}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"camera`)
  const silent = await openRaw(t, server, '')
  // Bounded well below Node's defaults (60 s for headers, checked every 30 s).
  await waitFor(() => headers.closed && body.closed && silent.closed, 'the half-sent requests to be closed', 10_000)
  for (const s of [headers, body, silent]) t.match(s.data, /^HTTP\/1\.1 408 /, 'answered 408 Request Timeout')
  await client.roundTrip()
  t.equal(client.ws.readyState, WebSocket.OPEN, 'the WebSocket is still served')
})

t.test('an upgrade on a route without WebSocket gets an HTTP error, never 101', async t => {
  const server = await startServer(t)
  const health = await tryUpgrade(`ws://127.0.0.1:${server.port}/healthz`)
  t.match(health, { upgraded: false, status: 400 })
  if (!health.upgraded) {
    t.match(JSON.parse(health.body), { statusCode: 400, code: 'PUSH_NOT_WEBSOCKET', message: /\/healthz does not speak WebSocket: connect WebSocket clients to \/api\/ws\/statistics/ })
  }
  t.match(await tryUpgrade(`ws://127.0.0.1:${server.port}/no-such-path`), { upgraded: false, status: 404 })
  // The WebSocket endpoint still upgrades.
  await connect(server, t)
})

t.test('past MAX_SOCKETS WebSockets are refused with 503 and /healthz still answers', async t => {
  const server = await startServer(t, { MAX_SOCKETS: 3, MAX_PENDING_PER_IP: 4 })
  const clients: Client[] = []
  for (let i = 0; i < 3; i++) clients.push(await connect(server, t, `user-${i}`))

  for (let i = 0; i < 5; i++) {
    const refused = await tryUpgrade(`${server.wsUrl}?token=${token('late')}`)
    t.match(refused, { upgraded: false, status: 503, headers: { 'retry-after': '5' } })
    if (!refused.upgraded) t.match(JSON.parse(refused.body), { code: 'PUSH_AT_CAPACITY', message: /maximum of 3 WebSockets \(MAX_SOCKETS\); retry/ })
  }
  t.same((await get(server, '/healthz', '127.0.0.1')).status, 200, '/healthz answers while the service holds MAX_SOCKETS WebSockets')
  t.same((await get(server, '/healthz', '127.0.0.2')).status, 200)
  t.equal(server.app.server.maxConnections, 3 + 4 + 64, 'the server accepts the WebSockets plus the HTTP headroom')

  // A closed WebSocket frees its place.
  clients[0].ws.close()
  await clients[0].closed
  await waitFor(() => server.app.hub.size === 2, 'the closed connection to leave')
  let admitted: Client | null = null
  for (let attempt = 0; admitted === null && attempt < 50; attempt++) {
    const result = await tryUpgrade(`${server.wsUrl}?token=${token('next')}`)
    if (result.upgraded) admitted = await connect(server, t, 'next')
  }
  t.ok(admitted, 'a new WebSocket is admitted once one closed')
})
