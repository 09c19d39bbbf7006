import fastifyWebsocket from '@fastify/websocket'
import fp from 'fastify-plugin'
import { CloseCode } from '../protocol/close-codes.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** True once close() has begun: new WebSockets are refused with 1001. */
    readonly shuttingDown: boolean
  }
}

export const SHUTDOWN_REASON = 'server shutting down'

/**
 * WebSocket support. The hub tracks connections itself, so ws's own client
 * set is switched off; on close every connection gets a close frame 1001
 * before the server stops, and so does every upgrade that completes later.
 */
export default fp(async function websocketPlugin (app) {
  let shuttingDown = false
  app.decorate('shuttingDown', { getter: () => shuttingDown })
  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: app.config.MAX_INBOUND_MESSAGE_BYTES,
      clientTracking: false,
      // Statistics frames are small and repeated to many clients: compressing
      // per client would cost CPU and memory on every connection.
      perMessageDeflate: false
    },
    preClose (done) {
      shuttingDown = true
      app.hub.closeAll(CloseCode.GOING_AWAY, SHUTDOWN_REASON)
      done()
    }
  })
}, { name: 'websocket', dependencies: ['config', 'hub'] })
