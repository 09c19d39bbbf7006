import type { IncomingMessage } from 'node:http'
import fastifyWebsocket from '@fastify/websocket'
import fp from 'fastify-plugin'
import type WebSocket from 'ws'
import { Errors } from '../errors.js'
import { CloseCode } from '../protocol/close-codes.js'
import { FrameCompressor } from '../transport/deflate.js'
import { adoptDeflate, NEGOTIATION } from '../transport/permessage-deflate.js'
import { SHUTDOWN_REASON } from '../transport/refusal.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** True once close() has begun: new WebSockets are refused with 1001. */
    readonly shuttingDown: boolean
    /** Builds the compressed frames (COMPRESSION=on); null when compression is off. */
    readonly compressor: FrameCompressor | null
    /** WebSocket upgrades this instance holds, from the request until the TCP socket closes: what MAX_SOCKETS limits. */
    readonly socketsHeld: number
  }
}

/**
 * WebSocket support. The hub tracks connections itself, so ws's own client
 * set is switched off; on close every connection gets a close frame 1001
 * before the server stops, and so does every upgrade that completes later.
 */
export default fp(async function websocketPlugin (app) {
  let shuttingDown = false
  app.decorate('shuttingDown', { getter: () => shuttingDown })
  const { COMPRESSION, COMPRESSION_MIN_BYTES, MAX_INBOUND_MESSAGE_BYTES } = app.config
  // ws negotiates permessage-deflate; the frames are compressed once per
  // message for every socket by the compressor (ws never compresses per
  // socket), and client messages inflated without a zlib stream per socket.
  const compressor = COMPRESSION === 'on' ? new FrameCompressor(COMPRESSION_MIN_BYTES) : null
  app.decorate('compressor', compressor)
  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: MAX_INBOUND_MESSAGE_BYTES,
      clientTracking: false,
      perMessageDeflate: compressor === null ? false : NEGOTIATION
    },
    preClose (done) {
      shuttingDown = true
      app.hub.closeAll(CloseCode.GOING_AWAY, SHUTDOWN_REASON)
      done()
    }
  })

  // @fastify/websocket completes an upgrade on any route, and on a route
  // without a WebSocket handler closes it again: a 101 and a socket held for
  // ws's close timeout per request. Upgrades are answered here instead,
  // before the handshake: an HTTP error on other routes, and 503 when the
  // WebSockets this instance may hold (MAX_SOCKETS) are all taken.
  const wsRoutes = new Set<string>()
  app.addHook('onRoute', (route) => {
    if (route.wsHandler !== undefined || route.websocket === true) wsRoutes.add(route.url)
  })
  const { MAX_SOCKETS } = app.config
  const AT_CAPACITY = `server at capacity: this instance holds its maximum of ${MAX_SOCKETS} WebSockets (MAX_SOCKETS); retry in a few seconds, when connections have closed, or on another instance`
  const BACKPLANE_BUSY = `shared state (Redis) is slow: this instance already has ${app.config.REDIS_ACQUIRE_QUEUE_MAX} handshakes waiting for it (REDIS_ACQUIRE_QUEUE_MAX); retry in a few seconds`
  let held = 0
  // One function for every socket (and `on`, not `once`: 'close' comes once),
  // so holding a socket allocates nothing per connection.
  const letGo = (): void => { held-- }
  app.decorate('socketsHeld', { getter: () => held })
  app.addHook('onRequest', async (request, reply) => {
    if (!request.ws) return
    const url = request.routeOptions.url
    // No route: the not-found handler answers 404.
    if (url === undefined) return
    if (!wsRoutes.has(url)) throw new Errors.NotWebSocket(url, [...wsRoutes].join(', '))
    if (held >= MAX_SOCKETS) {
      app.metrics.refused.inc({ code: '503' })
      // Answered here: the error handler would log a 503 as a failure.
      return await reply.code(503).header('retry-after', '5').send({ statusCode: 503, code: 'PUSH_AT_CAPACITY', error: 'Service Unavailable', message: AT_CAPACITY })
    }
    // The slot store (Redis) is not keeping up: shed load before the upgrade costs anything.
    if (app.slotLimiter.busy) {
      app.metrics.refused.inc({ code: '503' })
      return await reply.code(503).header('retry-after', '2').send({ statusCode: 503, code: 'PUSH_BACKPLANE_BUSY', error: 'Service Unavailable', message: BACKPLANE_BUSY })
    }
    // Held until the TCP socket closes, whatever happens after the
    // handshake: that is when its file descriptor is freed.
    held++
    request.raw.socket.on('close', letGo)
    return undefined
  })
  // Once upgraded, a socket is a WebSocket: it no longer counts against its
  // address's unfinished connections.
  // Before the route's handler runs (and before any data is read), so the
  // session's connection already knows which frames its socket takes.
  app.websocketServer.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    app.pendingGuard.release(request.socket)
    if (compressor !== null) adoptDeflate(socket, compressor, MAX_INBOUND_MESSAGE_BYTES)
  })
}, { name: 'websocket', dependencies: ['config', 'hub', 'metrics', 'socket-limits', 'backplane'] })
