import { timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { ServiceMetrics, type HubView } from '../metrics/service-metrics.js'
import { errorReply } from '../protocol/http-replies.js'
import { bearerToken } from './auth.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ServiceMetrics
  }
}

function sameSecret (given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * Prometheus metrics at GET /metrics. Open by default, as scrapers expect on
 * a private network; with METRICS_TOKEN set, the scraper must send
 * `Authorization: Bearer <METRICS_TOKEN>` (a static secret, not a user JWT,
 * because scrapers cannot refresh tokens).
 */
export default fp(async function metricsPlugin (app) {
  const metrics = new ServiceMetrics(() => (app.hasDecorator('hub') ? app.hub as unknown as HubView : undefined))
  app.decorate('metrics', metrics)
  const secret = app.config.METRICS_TOKEN

  app.get('/metrics', {
    config: { rateLimit: false },
    logLevel: 'warn',
    schema: {
      summary: 'Prometheus metrics',
      description: 'The text exposition format. Open unless METRICS_TOKEN is set; then the scraper sends `Authorization: Bearer <METRICS_TOKEN>`. Never rate limited.',
      tags: ['operations'],
      security: [{}, { metricsToken: [] }],
      response: {
        200: { description: 'The metrics', content: { 'text/plain': { schema: Type.String() } } },
        401: errorReply('METRICS_TOKEN is set and the request does not carry it')
      }
    }
  }, async (request, reply) => {
    if (secret !== null) {
      const given = bearerToken(request.headers.authorization)
      if (given === undefined || !sameSecret(given, secret)) {
        return await reply.code(401).header('www-authenticate', 'Bearer').send({
          statusCode: 401,
          code: 'PUSH_METRICS_TOKEN',
          error: 'Unauthorized',
          message: 'metrics need "Authorization: Bearer <METRICS_TOKEN>" (the token configured on the service)'
        })
      }
    }
    return await reply.type(metrics.contentType).send(await metrics.render())
  })
}, { name: 'metrics', dependencies: ['config'] })
