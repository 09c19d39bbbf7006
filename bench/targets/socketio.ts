/**
 * The socket.io reference: websocket transport only, compression off, the
 * same JWT check in a middleware (token in the handshake `auth`), messages
 * broadcast with `io.emit`. Published through the same HTTP call as the
 * service's, and an app-level ping answered through an acknowledgement.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createVerifier } from 'fast-jwt'
import { Server } from 'socket.io'

const secret = process.env.JWT_SECRET ?? 'development-secret-do-not-use-in-production'
const verify = createVerifier({ key: secret, algorithms: ['HS256'] })
let seq = 0

function principal (token: unknown): { sub: string, roles: string[] } | null {
  if (typeof token !== 'string' || token === '') return null
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
    io.emit('camera_event', message)
    response.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ seq: message.seq }))
  })
}

const server = createServer((request, response) => {
  if (request.method === 'POST' && request.url === '/api/events') publish(request, response)
  else if (request.url === '/healthz') response.writeHead(200).end()
})
const io = new Server(server, { transports: ['websocket'], perMessageDeflate: false, httpCompression: false, serveClient: false })
io.use((socket, next) => {
  const user = principal((socket.handshake.auth as { token?: unknown }).token)
  if (user === null) next(new Error('invalid token'))
  else {
    socket.data.user = user.sub
    next()
  }
})
io.on('connection', (socket) => {
  socket.on('ping_app', (data: unknown, ack: unknown) => { if (typeof ack === 'function') ack(data) })
})
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log('listening')
})
