import { CameraScope } from '../protocol/camera-scope.js'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

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

  app.get('/api/statistics', { onRequest: [cors, app.authenticate] }, async (request) => {
    // The caller's view: only the cameras its token's scope admits.
    const scope = request.principal?.cameras ?? CameraScope.NONE
    const snapshot = await app.latestStatistics(scope)
    if (snapshot !== null) return snapshot
    // Before the first snapshot: gathered now, only for holders who may see every camera.
    return scope.all ? await app.statistics.collect() : { timestamp: new Date().toISOString(), data: {} }
  })

  // The preflight a browser sends before a GET with an Authorization header.
  app.options('/api/statistics', { onRequest: cors }, async (_request, reply) => {
    return await reply
      .code(204)
      .header('access-control-allow-methods', 'GET')
      .header('access-control-allow-headers', 'authorization')
      .header('access-control-max-age', '600')
      .send()
  })
}
