import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ClusterStatistics } from '../backplane/redis/cluster-statistics.js'
import { encode } from '../protocol/codec.js'
import { StatisticsCollector, type Snapshot, type StatisticsSource } from '../stats/collector.js'
import { ConnectionStatistics } from '../stats/sources/connections.js'
import { EventStatistics } from '../stats/sources/events.js'
import { UpstreamStatistics } from '../stats/sources/upstream.js'

declare module 'fastify' {
  interface FastifyInstance {
    statistics: StatisticsCollector
    /** The latest `statistics_update`, encoded once for every new connection; null before the first run. */
    latestStatisticsFrame (): Buffer | null
    /** The snapshot dashboards were last sent (cluster-wide with REDIS_URL); null before the first. */
    latestStatistics (): Snapshot | null
  }
}

/**
 * The background statistics task: gathers on an interval and pushes a
 * `statistics_update` to every connection when the data changed.
 */
export default fp<{ sources?: StatisticsSource[] }>(async function statsPlugin (app, options) {
  if (app.cluster !== null) {
    await clusterStatistics(app, options.sources ?? [])
    return
  }
  const events = new EventStatistics()
  const stopCounting = app.bus.onMessage(message => { events.record(message) })
  const sources: StatisticsSource[] = [events, new ConnectionStatistics(app.hub), ...(options.sources ?? [])]
  if (app.config.STATS_UPSTREAM_URL !== null) {
    sources.push(upstreamSource(app))
  }

  let frame: Buffer | null = null
  const collector = new StatisticsCollector({
    sources,
    intervalMs: app.config.STATS_INTERVAL_MS,
    logger: app.log,
    onChange (snapshot) {
      frame = encode({ type: 'statistics_update', timestamp: snapshot.timestamp, data: snapshot.data })
      app.hub.broadcastFrame(frame, true)
    }
  })
  app.decorate('statistics', collector)
  // A run that found nothing changed keeps the pushed frame: a new dashboard
  // gets exactly what the others were last sent, without encoding it again.
  app.decorate('latestStatisticsFrame', () => frame)
  app.decorate('latestStatistics', () => collector.latest)

  app.addHook('onReady', async () => { collector.start() })
  app.addHook('onClose', async () => {
    stopCounting()
    await collector.stop()
  })
}, { name: 'stats', dependencies: ['config', 'hub', 'cluster', 'metrics'] })

function upstreamSource (app: FastifyInstance): UpstreamStatistics {
  const { STATS_UPSTREAM_URL, STATS_UPSTREAM_TIMEOUT_MS, STATS_UPSTREAM_MAX_BYTES } = app.config
  return new UpstreamStatistics(STATS_UPSTREAM_URL!, { timeoutMs: STATS_UPSTREAM_TIMEOUT_MS, maxBytes: STATS_UPSTREAM_MAX_BYTES }, app.log)
}

/**
 * With REDIS_URL: the counters come from Redis, one instance (the leader)
 * gathers per interval, and every instance pushes the snapshot it publishes.
 */
async function clusterStatistics (app: FastifyInstance, extra: StatisticsSource[]): Promise<void> {
  const cluster = app.cluster!
  const sources: StatisticsSource[] = [...cluster.statisticsSources(), ...extra]
  if (app.config.STATS_UPSTREAM_URL !== null) {
    sources.push(upstreamSource(app))
  }
  // Only the leader calls collect(); the collector's own loop never runs.
  const collector = new StatisticsCollector({ sources, intervalMs: app.config.STATS_INTERVAL_MS, logger: app.log, onChange () {} })
  app.decorate('statistics', collector)
  let driver: ClusterStatistics | null = null
  app.decorate('latestStatisticsFrame', () => driver?.frame ?? null)
  app.decorate('latestStatistics', () => driver?.latest ?? null)
  app.addHook('onReady', async () => {
    driver = await cluster.startStatistics(collector, app.config.STATS_INTERVAL_MS, frame => { app.hub.broadcastFrame(frame, true) })
  })
  app.addHook('onClose', async () => { await driver?.stop() })
}
