import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { authErrors, BEARER } from '../protocol/http-replies.js'

// The descriptions are what the OpenAPI document at /docs shows.
const StatusReply = Type.Object({
  total_connections: Type.Integer({ description: 'Open WebSockets (over every instance with REDIS_URL)' }),
  total_users: Type.Integer({ description: 'Users with at least one open WebSocket' }),
  user_connections: Type.Integer({ description: 'The caller\'s own open WebSockets' }),
  max_connections_per_user: Type.Integer({ description: 'MAX_CONNECTIONS_PER_USER' }),
  uptime_seconds: Type.Number({ description: 'Seconds since this instance started' }),
  timestamp: Type.String({ format: 'date-time' }),
  users: Type.Optional(Type.Record(Type.String(), Type.Integer(), { description: 'Admins only: user id → open connections' })),
  instances: Type.Optional(Type.Record(Type.String(), Type.Integer(), { description: 'With REDIS_URL, admins only: instance id → open connections' })),
  stale: Type.Optional(Type.Boolean({ description: 'With REDIS_URL: true when Redis is unreachable and the counts are this instance\'s own' })),
  coalesced: Type.Optional(Type.Integer({ description: 'Admins only: frames written inside another frame\'s write since start' })),
  superseded: Type.Optional(Type.Integer({ description: 'Admins only: statistics snapshots replaced by a newer one for a slow connection' })),
  slow_consumer_closed: Type.Optional(Type.Integer({ description: 'Admins only: connections closed with 1013 because they stopped reading' }))
}, { title: 'ConnectionStatus', description: 'The counts' })

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
    schema: {
      summary: 'WebSocket connection counts',
      description: 'Open connections in all, users, and the caller\'s own connections against MAX_CONNECTIONS_PER_USER. Holders of the `admin` role also get the per-user (and, with REDIS_URL, per-instance) counts and the slow-consumer counters.',
      tags: ['statistics'],
      security: BEARER,
      response: { 200: StatusReply, ...authErrors() }
    }
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
