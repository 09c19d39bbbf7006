import type { Redis } from 'ioredis'
import type { CameraScope } from '../../protocol/camera-scope.js'
import type { Snapshot, StatisticsData, StatisticsSource } from '../../stats/collector.js'
import { ACTIVE_CAMERA_WINDOW_MS, utcDay } from '../../stats/sources/events.js'
import { readCameraCounts } from './camera-counts.js'
import { listCameras, MAX_LISTED_CAMERAS, MAX_TRACKED_CAMERAS, viewOf, type ScopedEventSource } from '../../stats/sources/camera-views.js'
import { minuteOf, SERIES_MINUTES, seriesOf } from '../../stats/sources/minute-series.js'
import type { ClusterInstance } from './instance.js'
import { Channels, Keys } from './keys.js'
import type { RedisHealth } from './redis-health.js'
import { eventCountersScript, leadScript, resignScript } from './scripts.js'

/** Event counters over every instance, counted by the publish script. */
export class ClusterEventStatistics implements ScopedEventSource {
  readonly name = 'events'
  readonly #client: Redis

  constructor (client: Redis) {
    this.#client = client
  }

  async collect (): Promise<StatisticsData> {
    const at = Date.now()
    const first = minuteOf(at) - SERIES_MINUTES + 1
    const minutes = Array.from({ length: SERIES_MINUTES }, (_, i) => Keys.eventsMinute(first + i))
    const day = utcDay(at)
    const [total, today, recognitions, last, cameras, byType, perMinute, listed] = await eventCountersScript.run(this.#client, [
      Keys.eventsTotal, Keys.eventsDay(day), Keys.eventsByType, Keys.eventsCameras, Keys.eventsLastRecognition,
      Keys.cameraIndex, Keys.cameraDay(day), ...minutes
    ], [at - ACTIVE_CAMERA_WINDOW_MS, MAX_TRACKED_CAMERAS, MAX_LISTED_CAMERAS]) as [string, string, string, string, number, string[], string[], string[]]
    const rows: Array<{ id: string, lastEventAt: number, today: number }> = []
    for (let i = 0; i + 2 < listed.length; i += 3) rows.push({ id: listed[i], lastEventAt: Number(listed[i + 1]), today: Number(listed[i + 2]) })
    // Event types are publishers' strings: "__proto__" must stay a key.
    const types: Record<string, number> = Object.create(null)
    for (let i = 0; i + 1 < byType.length; i += 2) types[byType[i]] = Number(byType[i + 1])
    return {
      events_total: Number(total),
      events_today: Number(today),
      recognitions_today: Number(recognitions),
      last_recognition: last === '' ? null : JSON.parse(last),
      active_cameras: Number(cameras),
      events_by_type: types,
      series: seriesOf(at, minute => {
        const i = 2 * (minute - first)
        return [Number(perMinute[i] ?? 0), Number(perMinute[i + 1] ?? 0)]
      }),
      cameras: listCameras(rows)
    }
  }

  /**
   * Each scope's view, from one read of the per-camera counts the publish
   * script keeps (only when a scoped view is asked for: the unscoped view
   * reads the service-wide counters, as `collect()` does).
   */
  async collectViews (scopes: readonly CameraScope[]): Promise<Map<string, StatisticsData>> {
    const views = new Map<string, StatisticsData>()
    const at = Date.now()
    const day = utcDay(at)
    const scoped = scopes.filter(scope => !scope.all)
    const cameras = scoped.length === 0 ? null : await readCameraCounts(this.#client, day, at)
    for (const scope of scopes) {
      views.set(scope.key, scope.all ? await this.collect() : viewOf(cameras ?? new Map(), scope, day, at))
    }
    return views
  }
}

/** Connection and user counts over every live instance. */
export class ClusterConnectionStatistics implements StatisticsSource {
  readonly name = 'connections'
  readonly #instance: ClusterInstance

  constructor (instance: ClusterInstance) {
    this.#instance = instance
  }

  async collect (): Promise<StatisticsData> {
    const totals = await this.#instance.totals()
    return { total_connections: totals.totalConnections, total_users: totals.totalUsers }
  }
}

export interface ClusterStatisticsOptions {
  instanceId: string
  client: Redis
  /** A connection of its own for the statistics channel. */
  subscriber: Redis
  health: RedisHealth
  /** Gathers from the cluster sources; only the leader calls it. */
  gather: () => Promise<Snapshot>
  intervalMs: number
  /** Takes every snapshot that reaches this instance (the leader's own too). */
  receive: (snapshot: Snapshot) => void
  logger: { warn (obj: object, msg: string): void, info (obj: object, msg: string): void }
}

/**
 * Statistics for the whole cluster. Each interval one instance, the holder
 * of a leadership lease in Redis, gathers (upstream fetch included) and
 * publishes the snapshot; every instance, the leader too, pushes what comes
 * over the channel, so all dashboards get the same snapshot. The lease lasts
 * 1.5 intervals and is tried every half interval, so when the leader dies
 * another instance gathers within two intervals. While Redis is down each
 * instance pushes its last snapshot once more, marked `stale: true`.
 */
export class ClusterStatistics {
  readonly #options: ClusterStatisticsOptions
  #timer: NodeJS.Timeout | null = null
  #nextGatherAt = 0
  #leading = false
  #latest: Snapshot | null = null
  #stopped = false
  #ticking: Promise<void> | null = null

  constructor (options: ClusterStatisticsOptions) {
    this.#options = options
  }

  /** True while this instance gathers for the cluster. */
  get leading (): boolean {
    return this.#leading
  }

  async start (): Promise<void> {
    const { subscriber, client, health, intervalMs } = this.#options
    subscriber.on('message', (_channel: string, payload: string) => { this.#received(payload) })
    subscriber.on('ready', () => { subscriber.subscribe(Channels.statistics).catch(() => {}) })
    await subscriber.subscribe(Channels.statistics)
    health.on('down', this.#markStale)
    const stored = await client.get(Keys.statsSnapshot)
    if (stored !== null) this.#received(stored)
    void this.#tick()
    this.#timer = setInterval(() => { void this.#tick() }, Math.max(25, Math.floor(intervalMs / 2)))
    this.#timer.unref()
  }

  async stop (): Promise<void> {
    this.#stopped = true
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    this.#options.health.off('down', this.#markStale)
    if (this.#ticking !== null) await this.#ticking
    if (this.#leading && this.#options.client.status === 'ready') {
      // Hand the leadership over now rather than after the lease runs out.
      await resignScript.run(this.#options.client, [Keys.statsLeader], [this.#options.instanceId]).catch(() => {})
    }
    this.#leading = false
  }

  #tick (): Promise<void> {
    this.#ticking ??= this.#lead().finally(() => { this.#ticking = null })
    return this.#ticking
  }

  async #lead (): Promise<void> {
    const { client, instanceId, intervalMs, gather, logger } = this.#options
    if (this.#stopped || client.status !== 'ready') return
    try {
      const leads = await leadScript.run(client, [Keys.statsLeader], [instanceId, Math.ceil(intervalMs * 1.5)]) === 1
      if (leads !== this.#leading) {
        this.#leading = leads
        if (leads) logger.info({ instanceId }, 'this instance now gathers the cluster statistics')
      }
      if (!leads || Date.now() < this.#nextGatherAt || this.#stopped) return
      this.#nextGatherAt = Date.now() + intervalMs - Math.floor(intervalMs / 4)
      const snapshot = await gather()
      const payload = JSON.stringify({ timestamp: snapshot.timestamp, data: { ...snapshot.data, stale: false } })
      await client.multi().set(Keys.statsSnapshot, payload).publish(Channels.statistics, payload).exec()
    } catch {
      // Redis is down (logged once by RedisHealth); the next tick tries again.
    }
  }

  /** A snapshot from the channel; one that cannot be read is skipped, never thrown into the subscriber. */
  #received (payload: string): void {
    if (this.#stopped) return
    let snapshot: Snapshot
    try {
      snapshot = JSON.parse(payload) as Snapshot
    } catch (err) {
      this.#options.logger.warn({ err: (err as Error).message }, 'unreadable statistics snapshot from Redis; keeping the last one')
      return
    }
    this.#latest = snapshot
    this.#options.receive(snapshot)
  }

  readonly #markStale = (): void => {
    const latest = this.#latest
    if (latest === null || this.#stopped) return
    this.#latest = { timestamp: new Date().toISOString(), data: { ...latest.data, stale: true } }
    this.#options.receive(this.#latest)
  }
}
