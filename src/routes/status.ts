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
  users: Type.Optional(Type.Record(Type.String(), Type.Integer()))
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
      ...(principal.roles.includes('admin') ? { users: hub.users() } : {})
    }
  })
}
