import { CameraScope } from '../protocol/camera-scope.js'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { authErrors, BEARER } from '../protocol/http-replies.js'

const StatisticsReply = Type.Object({
  timestamp: Type.String({ format: 'date-time', description: 'When the snapshot was gathered (every STATS_INTERVAL_MS, 5 s by default)' }),
  data: Type.Record(Type.String(), Type.Unknown(), { description: 'The statistics: one key per source (connections, events, cameras, upstream ...), limited to the cameras the token may see' })
}, { title: 'StatisticsSnapshot', description: 'The snapshot for the token\'s cameras' })

/**
 * The latest statistics snapshot: the polling fallback for dashboards.
 *
 * Dashboards on other sites poll it too (the browser client is served to
 * them as a module), so it answers CORS: any origin when ALLOWED_ORIGINS is
 * unset (the token travels in a header, never in a cookie, so no ambient
 * credential is exposed), otherwise only the listed origins.
 */
export default async function statisticsRoute (app: FastifyInstance): Promise<void> {
  const allowed = app.config.ALLOWED_ORIGINS === null ? null : new Set(app.config.ALLOWED_ORIGINS)

  async function cors (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const origin = request.headers.origin
    if (origin === undefined) return
    if (allowed === null) {
      reply.header('access-control-allow-origin', '*')
    } else if (allowed.has(origin)) {
      reply.header('access-control-allow-origin', origin).header('vary', 'Origin')
    }
  }

  app.get('/api/statistics', {
    onRequest: [cors, app.authenticate],
    schema: {
      summary: 'The latest statistics snapshot',
      description: 'The same data as the WebSocket `statistics_update`, for clients that poll. It refreshes every STATS_INTERVAL_MS (5 s by default). Cross-origin requests are answered for the origins in ALLOWED_ORIGINS (any origin when unset).',
      tags: ['statistics'],
      security: BEARER,
      response: { 200: StatisticsReply, ...authErrors() }
    }
  }, async (request) => {
    // The caller's view: only the cameras its token's scope admits.
    const scope = request.principal?.cameras ?? CameraScope.NONE
    const snapshot = await app.latestStatistics(scope)
    if (snapshot !== null) return snapshot
    // Before the first snapshot: gathered now, only for holders who may see every camera.
    return scope.all ? await app.statistics.collect() : { timestamp: new Date().toISOString(), data: {} }
  })

  // The preflight a browser sends before a GET with an Authorization header.
  app.options('/api/statistics', {
    onRequest: cors,
    schema: {
      summary: 'CORS preflight for GET /api/statistics',
      tags: ['statistics'],
      response: { 204: Type.Null({ description: 'Allowed: GET with an Authorization header, for 600 s' }) }
    }
  }, async (_request, reply) => {
    return await reply
      .code(204)
      .header('access-control-allow-methods', 'GET')
      .header('access-control-allow-headers', 'authorization')
      .header('access-control-max-age', '600')
      .send()
  })
}
