/**
 * The reference: a bare `ws` server written the way most Node services push
 * to WebSockets. Same JWT check as the service (HS256 with the same secret,
 * token in ?token=), each message stringified once and `send` called per
 * client in one synchronous loop. Publishing is the same HTTP call as the
 * service's (POST /api/events with a publisher Bearer token), so the
 * benchmark drives every target the same way.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createVerifier } from 'fast-jwt'
import { WebSocketServer, type WebSocket } from 'ws'

const secret = process.env.JWT_SECRET ?? 'development-secret-do-not-use-in-production'
const verify = createVerifier({ key: secret, algorithms: ['HS256'] })
const clients = new Set<WebSocket>()
let seq = 0

function principal (token: string | null | undefined): { sub: string, roles: string[] } | null {
  if (token === undefined || token === null || token === '') return null
  try {
    const payload = verify(token) as { sub?: unknown, roles?: unknown }
    if (typeof payload.sub !== 'string' || payload.sub === '') return null
    return { sub: payload.sub, roles: Array.isArray(payload.roles) ? payload.roles as string[] : [] }
  } catch {
    return null
  }
}

function publish (request: IncomingMessage, response: ServerResponse): void {
  const auth = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')
  if (principal(auth?.[1])?.roles.includes('publisher') !== true) {
    response.writeHead(401).end()
    request.resume()
    return
  }
  const chunks: Buffer[] = []
  request.on('data', (chunk: Buffer) => chunks.push(chunk))
  request.on('end', () => {
    let body: { camera_id: string, event_type: string, data?: unknown }
    try {
      body = JSON.parse(Buffer.concat(chunks).toString())
    } catch {
      response.writeHead(400).end()
      return
    }
    const message = { type: 'camera_event', timestamp: new Date().toISOString(), seq: ++seq, camera_id: body.camera_id, event_type: body.event_type, data: body.data ?? {} }
    const text = JSON.stringify(message)
    for (const client of clients) client.send(text)
    response.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ seq: message.seq }))
  })
}

const server = createServer((request, response) => {
  if (request.method === 'POST' && request.url === '/api/events') publish(request, response)
  else response.writeHead(request.url === '/healthz' ? 200 : 404).end()
})
const wss = new WebSocketServer({ server, path: '/api/ws/statistics', perMessageDeflate: false, clientTracking: false })
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
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log('listening')
})
