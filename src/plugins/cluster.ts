import fp from 'fastify-plugin'
import { Cluster } from '../backplane/redis/cluster.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The Redis-backed cluster when REDIS_URL is set; null for one process in memory. */
    cluster: Cluster | null
  }
}

/**
 * Scale-out over Redis. With REDIS_URL set, the bus, the per-user connection
 * limit, the history and the statistics are shared by every instance; the
 * start-up fails with a clear message when Redis cannot be reached. Without
 * REDIS_URL nothing changes: one process, everything in memory.
 */
export default fp(async function clusterPlugin (app) {
  const url = app.config.REDIS_URL
  if (url === null) {
    app.decorate('cluster', null)
    return
  }
  const cluster = await Cluster.connect({
    url,
    leaseMs: app.config.INSTANCE_LEASE_MS,
    historySize: app.config.REDIS_HISTORY_SIZE,
    idempotencyWindowMs: app.config.IDEMPOTENCY_WINDOW_MS,
    maxConnectionsPerUser: app.config.MAX_CONNECTIONS_PER_USER,
    logger: app.log
  })
  app.decorate('cluster', cluster)
  app.log.info({ instanceId: cluster.id }, 'cluster mode: sharing connections, events and statistics through Redis')

  app.addHook('onReady', async () => { await cluster.start() })
  app.addHook('onClose', async () => { await cluster.close() })
}, { name: 'cluster', dependencies: ['config'] })
