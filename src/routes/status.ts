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
  /** With REDIS_URL, admins only: instance id → open connections. */
  instances: Type.Optional(Type.Record(Type.String(), Type.Integer())),
  /** With REDIS_URL: true when Redis is unreachable and the counts are this instance's own. */
  stale: Type.Optional(Type.Boolean()),
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
  /** This instance's slow-consumer counters (admins only). */
  const outboundCounters = (): { coalesced: number, superseded: number, slow_consumer_closed: number } => ({
    coalesced: app.hub.counters.coalesced,
    superseded: app.hub.counters.superseded,
    slow_consumer_closed: app.hub.counters.slowConsumerClosed
  })
  app.get('/api/ws/status', {
    onRequest: app.authenticate,
    schema: { response: { 200: StatusReply } }
  }, async (request) => {
    const principal = request.principal!
    const { hub, backplane } = app
    const admin = principal.roles.includes('admin')
    const totals = await backplane.totals(hub, principal.userId, admin)
    return {
      total_connections: totals.totalConnections,
      total_users: totals.totalUsers,
      user_connections: totals.userConnections,
      max_connections_per_user: app.slotLimiter.limit,
      uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
      timestamp: new Date().toISOString(),
      ...(totals.stale === undefined ? {} : { stale: totals.stale }),
      ...(admin ? { users: totals.users, ...(totals.instances === undefined ? {} : { instances: totals.instances }), ...outboundCounters() } : {})
    }
  })
}
