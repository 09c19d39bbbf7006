import type { FastifyInstance } from 'fastify'

/** The latest statistics snapshot: the polling fallback for dashboards. */
export default async function statisticsRoute (app: FastifyInstance): Promise<void> {
  app.get('/api/statistics', { onRequest: app.authenticate }, async () => {
    return app.latestStatistics() ?? await app.statistics.collect()
  })
}
