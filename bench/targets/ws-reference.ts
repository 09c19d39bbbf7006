/**
 * The reference: a bare `ws` server written the way most Node services push
 * to WebSockets. Same JWT check as the service (HS256 with the same secret,
 * token in ?token=), each message stringified once and `send` called per
 * client in one synchronous loop. Publishing is the same HTTP call as the
 * service's (POST /api/events with a publisher Bearer token), so the
 * benchmark drives every target the same way.
 */
import { createServer } from 'node:http'
import { WebSocketServer, type WebSocket } from 'ws'
import { principal, publishHandler } from './common.js'

const clients = new Set<WebSocket>()

// Stringified once, then `send` per client in one synchronous loop.
const publish = publishHandler(message => {
  const text = JSON.stringify(message)
  for (const client of clients) client.send(text)
})

const server = createServer((request, response) => {
  if (request.method === 'POST' && request.url === '/api/events') publish(request, response)
  else response.writeHead(request.url === '/healthz' ? 200 : 404).end()
})
// WS_REFERENCE_DEFLATE=1 (npm run bench -- --compression): ws's default
// permessage-deflate, which compresses every message once per socket.
const deflate = process.env.WS_REFERENCE_DEFLATE === '1'
const wss = new WebSocketServer({ server, path: '/api/ws/statistics', perMessageDeflate: deflate, clientTracking: false })
wss.on('connection', (socket, request) => {
  const user = principal(new URL(request.url ?? '/', 'http://x').searchParams.get('token'))
  if (user === null) {
    socket.close(4401, 'invalid token')
    return
  }
  clients.add(socket)
  socket.on('close', () => clients.delete(socket))
  socket.on('error', () => {})
  socket.on('message', (data) => {
    let message: { type?: string, timestamp?: string }
    try {
      message = JSON.parse(data.toString())
    } catch {
      return
    }
    if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong', timestamp: new Date().toISOString(), echo: message.timestamp ?? null }))
  })
  socket.send(JSON.stringify({ type: 'connection_status', status: 'connected', user_id: user.sub, timestamp: new Date().toISOString() }))
})
// The service's LISTEN_BACKLOG, so that dropped connection attempts (retried a second later) do not decide the comparison.
server.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1', backlog: 4096 }, () => {
  console.log('listening')
})
