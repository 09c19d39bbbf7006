import fastifyWebsocket from '@fastify/websocket'
import fp from 'fastify-plugin'
import { CloseCode } from '../protocol/close-codes.js'

/**
 * WebSocket support. The hub tracks connections itself, so ws's own client
 * set is switched off; on close every connection gets a close frame 1001
 * before the server stops.
 */
export default fp(async function websocketPlugin (app) {
  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: app.config.MAX_INBOUND_MESSAGE_BYTES,
      clientTracking: false,
      // Statistics frames are small and repeated to many clients: compressing
      // per client would cost CPU and memory on every connection.
      perMessageDeflate: false
    },
    preClose (done) {
      app.hub.closeAll(CloseCode.GOING_AWAY, 'server shutting down')
      done()
    }
  })
}, { name: 'websocket', dependencies: ['config', 'hub'] })
