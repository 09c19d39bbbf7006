import fp from 'fastify-plugin'
import { Counter, Gauge } from 'prom-client'
import type { StatisticsShare } from '../backplane/backplane.js'
import { StatisticsCollector, type Snapshot, type StatisticsSource } from '../stats/collector.js'
import { LiveConnectionCounts } from '../stats/live-counts.js'
import { markOneOff } from '../protocol/one-off-frames.js'
import type { CameraScope } from '../protocol/camera-scope.js'
import { StaleCameraMarks } from '../stats/sources/camera-staleness.js'
import { UpstreamStatistics } from '../stats/sources/upstream.js'
import { StatisticsViews } from '../stats/views.js'

declare module 'fastify' {
  interface FastifyInstance {
    statistics: StatisticsCollector
    /** One statistics view per distinct camera scope (the unscoped one is the service-wide snapshot). */
    statisticsViews: StatisticsViews
    /** The latest `statistics_update` of a scope's view, with the connection counts as of now (encoded again only when they changed); null before the first. */
    latestStatisticsFrame (scope: CameraScope): Buffer | null
    /** The snapshot of a scope's view (over every instance with REDIS_URL); null before the first. */
    latestStatistics (scope: CameraScope): Promise<Snapshot | null>
  }
}

/**
 * The background statistics task. The backplane decides who gathers (this
 * process, or the cluster's leader) and brings each snapshot here; it is
 * pushed as a `statistics_update` when the data changed: to each connection
 * the view of its camera scope (see stats/views.ts).
 */
export default fp<{ sources?: StatisticsSource[] }>(async function statsPlugin (app, options) {
  const { backplane, hub, config } = app
  // Cameras silent past CAMERA_STALE_MS are marked in every view, in both modes.
  const events = new StaleCameraMarks(backplane.eventStatistics(), config.CAMERA_STALE_MS)
  const sources: StatisticsSource[] = [events, backplane.connectionStatistics(hub), ...(options.sources ?? [])]
  if (config.STATS_UPSTREAM_URL !== null) {
    const { STATS_UPSTREAM_URL, STATS_UPSTREAM_TIMEOUT_MS, STATS_UPSTREAM_MAX_BYTES } = config
    sources.push(new UpstreamStatistics(STATS_UPSTREAM_URL, { timeoutMs: STATS_UPSTREAM_TIMEOUT_MS, maxBytes: STATS_UPSTREAM_MAX_BYTES }, app.log))
  }
  // Only the backplane's gathering calls collect(); the collector's own loop never runs.
  const collector = new StatisticsCollector({ sources, intervalMs: config.STATS_INTERVAL_MS, logger: app.log })
  // Every frame sent counts the connections open now, not when it was gathered.
  const live = new LiveConnectionCounts(hub)
  const views = new StatisticsViews({
    events,
    push: (frame, forScope) => { hub.broadcastFrame(live.current(frame), true, 'statistics_update', forScope) },
    scopes: function * () { for (const member of hub.members()) yield member.scope },
    logger: app.log
  })
  const registers = [app.metrics.registry]
  new Gauge({
    name: 'push_statistics_views',
    help: 'Scoped statistics views alive: one per distinct camera scope of open connections and recent HTTP callers (unscoped holders share the service-wide snapshot)',
    registers,
    collect () { this.set(views.size) }
  })
  new Counter({
    name: 'push_statistics_view_computations_total',
    help: 'Scoped statistics views computed (one per view per snapshot, however many connections share it)',
    registers,
    collect () {
      this.reset()
      this.inc(views.computations)
    }
  })
  app.decorate('statistics', collector)
  app.decorate('statisticsViews', views)
  app.decorate('latestStatisticsFrame', (scope: CameraScope) => {
    const frame = views.frameFor(scope)
    if (frame === null) return null
    // A greeting brought up to date for this connection is its own; it goes uncompressed.
    const current = live.current(frame)
    return current === frame ? frame : markOneOff(current)
  })
  app.decorate('latestStatistics', async (scope: CameraScope) => await views.snapshotFor(scope))

  let share: StatisticsShare | null = null
  app.addHook('onReady', async () => {
    share = await backplane.shareStatistics(live.gathering(async () => await collector.collect()), snapshot => {
      live.received(snapshot)
      views.offer(snapshot)
    })
  })
  app.addHook('onClose', async () => { await share?.stop() })
}, { name: 'stats', dependencies: ['config', 'hub', 'backplane', 'metrics'] })
