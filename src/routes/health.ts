import type { FastifyInstance } from 'fastify'

/** Liveness for load balancers and the container HEALTHCHECK; never rate limited. */
export default async function healthRoute (app: FastifyInstance): Promise<void> {
  app.get('/healthz', { config: { rateLimit: false } }, async () => ({ status: 'ok' }))
}
