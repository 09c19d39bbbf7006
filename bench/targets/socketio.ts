/**
 * The socket.io reference: websocket transport only, compression off, the
 * same JWT check in a middleware (token in the handshake `auth`), messages
 * broadcast with `io.emit`. Published through the same HTTP call as the
 * service's, and an app-level ping answered through an acknowledgement.
 */
import { createServer } from 'node:http'
import { Server } from 'socket.io'
import { principal, publishHandler } from './common.js'

// Declared before `io` exists; only called once the server listens.
const publish = publishHandler(message => { io.emit('camera_event', message) })

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
// The service's LISTEN_BACKLOG, so that dropped connection attempts (retried a second later) do not decide the comparison.
server.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1', backlog: 4096 }, () => {
  console.log('listening')
})
