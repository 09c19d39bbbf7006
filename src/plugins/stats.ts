import fp from 'fastify-plugin'
import { encode } from '../protocol/codec.js'
import { StatisticsCollector, type StatisticsSource } from '../stats/collector.js'
import { ConnectionStatistics } from '../stats/sources/connections.js'
import { EventStatistics } from '../stats/sources/events.js'
import { UpstreamStatistics } from '../stats/sources/upstream.js'

declare module 'fastify' {
  interface FastifyInstance {
    statistics: StatisticsCollector
    /** The latest `statistics_update`, encoded once for every new connection; null before the first run. */
    latestStatisticsFrame (): Buffer | null
  }
}

/**
 * The background statistics task: gathers on an interval and pushes a
 * `statistics_update` to every connection when the data changed.
 */
export default fp<{ sources?: StatisticsSource[] }>(async function statsPlugin (app, options) {
  const events = new EventStatistics()
  const stopCounting = app.bus.onMessage(message => { events.record(message) })
  const sources: StatisticsSource[] = [events, new ConnectionStatistics(app.hub), ...(options.sources ?? [])]
  if (app.config.STATS_UPSTREAM_URL !== null) {
    sources.push(new UpstreamStatistics(app.config.STATS_UPSTREAM_URL, app.config.STATS_UPSTREAM_TIMEOUT_MS, app.log))
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

  app.addHook('onReady', async () => { collector.start() })
  app.addHook('onClose', async () => {
    stopCounting()
    await collector.stop()
  })
}, { name: 'stats', dependencies: ['config', 'hub'] })
