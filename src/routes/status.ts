import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'

const StatusReply = Type.Object({
  total_connections: Type.Integer(),
  total_users: Type.Integer(),
  user_connections: Type.Integer(),
  max_connections_per_user: Type.Integer(),
  uptime_seconds: Type.Number(),
  timestamp: Type.String(),
  /** Admins only: user id → open connections. */
  users: Type.Optional(Type.Record(Type.String(), Type.Integer())),
  /** Admins only: frames written inside another frame's write since start. */
  coalesced: Type.Optional(Type.Integer()),
  /** Admins only: statistics snapshots replaced by a newer one for a slow connection. */
  superseded: Type.Optional(Type.Integer()),
  /** Admins only: connections closed with 1013 because they stopped reading. */
  slow_consumer_closed: Type.Optional(Type.Integer())
})

/** Connection counts for operators; the per-user breakdown is for admins only. */
export default async function statusRoute (app: FastifyInstance): Promise<void> {
  const startedAt = Date.now()
  app.get('/api/ws/status', {
    onRequest: app.authenticate,
    schema: { response: { 200: StatusReply } }
  }, async (request) => {
    const principal = request.principal!
    const { hub } = app
    return {
      total_connections: hub.size,
      total_users: hub.userCount,
      user_connections: hub.connectionsOf(principal.userId),
      max_connections_per_user: hub.maxConnectionsPerUser,
      uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
      timestamp: new Date().toISOString(),
      ...(principal.roles.includes('admin')
        ? {
            users: hub.users(),
            coalesced: hub.counters.coalesced,
            superseded: hub.counters.superseded,
            slow_consumer_closed: hub.counters.slowConsumerClosed
          }
        : {})
    }
  })
}
