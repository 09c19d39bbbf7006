import fp from 'fastify-plugin'
import type { StatisticsShare } from '../backplane/backplane.js'
import { StatisticsCollector, type Snapshot, type StatisticsSource } from '../stats/collector.js'
import { SnapshotFrames } from '../stats/snapshot-frames.js'
import { UpstreamStatistics } from '../stats/sources/upstream.js'

declare module 'fastify' {
  interface FastifyInstance {
    statistics: StatisticsCollector
    /** The latest `statistics_update`, encoded once for every new connection; null before the first. */
    latestStatisticsFrame (): Buffer | null
    /** The snapshot dashboards were last sent (over every instance with REDIS_URL); null before the first. */
    latestStatistics (): Snapshot | null
  }
}

/**
 * The background statistics task. The backplane decides who gathers (this
 * process, or the cluster's leader) and brings each snapshot here; it is
 * pushed as a `statistics_update` to every connection when the data changed.
 */
export default fp<{ sources?: StatisticsSource[] }>(async function statsPlugin (app, options) {
  const { backplane, hub, config } = app
  const sources: StatisticsSource[] = [backplane.eventStatistics(), backplane.connectionStatistics(hub), ...(options.sources ?? [])]
  if (config.STATS_UPSTREAM_URL !== null) {
    const { STATS_UPSTREAM_URL, STATS_UPSTREAM_TIMEOUT_MS, STATS_UPSTREAM_MAX_BYTES } = config
    sources.push(new UpstreamStatistics(STATS_UPSTREAM_URL, { timeoutMs: STATS_UPSTREAM_TIMEOUT_MS, maxBytes: STATS_UPSTREAM_MAX_BYTES }, app.log))
  }
  // Only the backplane's gathering calls collect(); the collector's own loop never runs.
  const collector = new StatisticsCollector({ sources, intervalMs: config.STATS_INTERVAL_MS, logger: app.log })
  const frames = new SnapshotFrames(frame => { hub.broadcastFrame(frame, true) }, app.log)
  app.decorate('statistics', collector)
  app.decorate('latestStatisticsFrame', () => frames.frame)
  app.decorate('latestStatistics', () => frames.latest)

  let share: StatisticsShare | null = null
  app.addHook('onReady', async () => {
    share = await backplane.shareStatistics(async () => await collector.collect(), snapshot => { frames.offer(snapshot) })
  })
  app.addHook('onClose', async () => { await share?.stop() })
}, { name: 'stats', dependencies: ['config', 'hub', 'backplane', 'metrics'] })
