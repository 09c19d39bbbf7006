import fp from 'fastify-plugin'
import { PendingGuard } from '../net/pending-guard.js'
import { maxConnections } from '../net/socket-budget.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Caps the connections per address that are not WebSockets (MAX_PENDING_PER_IP). */
    readonly pendingGuard: PendingGuard
  }
}

/**
 * Keeps the server inside its file descriptors: at most MAX_SOCKETS
 * WebSockets (see the websocket plugin) plus the HTTP headroom are accepted
 * at all, and one address cannot hold more than MAX_PENDING_PER_IP
 * unfinished connections. The request timeouts are set in app.ts, where the
 * server is created.
 */
export default fp(async function socketLimitsPlugin (app) {
  const { MAX_SOCKETS, MAX_PENDING_PER_IP } = app.config
  const guard = new PendingGuard(MAX_PENDING_PER_IP, app.log)
  guard.attach(app.server)
  // Over this the kernel's accepted socket is closed at once, before it costs anything else.
  app.server.maxConnections = maxConnections(MAX_SOCKETS, MAX_PENDING_PER_IP)
  app.decorate('pendingGuard', guard)
}, { name: 'socket-limits', dependencies: ['config'] })
