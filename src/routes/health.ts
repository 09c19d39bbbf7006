import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'

/** Liveness for load balancers and the container HEALTHCHECK; never rate limited. */
export default async function healthRoute (app: FastifyInstance): Promise<void> {
  app.get('/healthz', {
    config: { rateLimit: false },
    schema: {
      summary: 'Liveness',
      description: 'Answers while the process serves HTTP, also during a drain (readiness is /readyz). Never rate limited.',
      tags: ['operations'],
      response: { 200: Type.Object({ status: Type.Literal('ok') }, { description: 'Alive' }) }
    }
  }, async () => ({ status: 'ok' }))
}
