import type { Redis } from 'ioredis'
import type { Snapshot, StatisticsSource } from '../../stats/collector.js'
import type { ScopedEventSource } from '../../stats/sources/camera-views.js'
import type { Backplane, LocalCounts, StatisticsShare, Totals } from '../backplane.js'
import { newInstanceId } from '../instance-id.js'
import { ClusterConnectionStatistics, ClusterEventStatistics, ClusterStatistics } from './cluster-statistics.js'
import { ClusterInstance } from './instance.js'
import { RedisBus } from './redis-bus.js'
import { connectOrExplain, createRedisClient, describeRedisUrl } from './redis-client.js'
import { RedisHealth, type HealthLogger } from './redis-health.js'
import { RedisHistory } from './redis-history.js'
import { RedisPresence } from './redis-presence.js'
import { RedisSlotLimiter } from './slot-leases.js'

/** The defaults of REDIS_ACQUIRE_TIMEOUT_MS and REDIS_ACQUIRE_QUEUE_MAX, for callers that build a backplane directly. */
const DEFAULT_ACQUIRE_TIMEOUT_MS = 1000
const DEFAULT_MAX_QUEUED_ACQUIRES = 5000

export interface RedisBackplaneOptions {
  url: string
  leaseMs: number
  /** Messages kept for resume (RESUME_HISTORY; 0 disables resume). */
  historySize: number
  /** How long a message is kept for resume (RESUME_WINDOW_MS). */
  historyWindowMs: number
  /** How long a publish's idempotency key is remembered in Redis. */
  idempotencyWindowMs?: number
  maxConnectionsPerUser: number
  /** How long a handshake waits for its slot before it is refused as busy (REDIS_ACQUIRE_TIMEOUT_MS). */
  acquireTimeoutMs?: number
  /** Slot acquires waiting to be sent to Redis, at most (REDIS_ACQUIRE_QUEUE_MAX). */
  maxQueuedAcquires?: number
  /** How often the leader gathers the statistics (STATS_INTERVAL_MS). */
  statisticsIntervalMs: number
  logger: HealthLogger
}

/**
 * Everything one instance shares with the others through Redis: the bus,
 * the connection slots, its lease, the history and the statistics
 * leadership, and presence, over four connections (commands, bus
 * subscription, statistics subscription, presence subscription).
 */
export class RedisBackplane implements Backplane {
  readonly id = newInstanceId()
  readonly client: Redis
  readonly health: RedisHealth
  readonly bus: RedisBus
  readonly instance: ClusterInstance
  readonly slots: RedisSlotLimiter
  readonly history: RedisHistory
  readonly presence: RedisPresence
  readonly #statsSubscriber: Redis
  readonly #presenceSubscriber: Redis
  readonly #busSubscriber: Redis
  readonly #options: RedisBackplaneOptions
  #statistics: ClusterStatistics | null = null

  private constructor (options: RedisBackplaneOptions, client: Redis, busSubscriber: Redis, statsSubscriber: Redis, presenceSubscriber: Redis) {
    this.client = client
    this.#busSubscriber = busSubscriber
    this.#statsSubscriber = statsSubscriber
    this.#presenceSubscriber = presenceSubscriber
    this.#options = options
    this.health = new RedisHealth([client, busSubscriber, statsSubscriber, presenceSubscriber], describeRedisUrl(options.url), options.logger)
    this.history = new RedisHistory({ client, maxMessages: options.historySize, windowMs: options.historyWindowMs })
    this.bus = new RedisBus({ client, subscriber: busSubscriber, storedMessages: this.history.storedMessages, idempotencyWindowMs: options.idempotencyWindowMs, logger: options.logger })
    this.instance = new ClusterInstance({
      id: this.id,
      client,
      leaseMs: options.leaseMs,
      highestSeq: () => this.bus.highestSeq,
      slots: () => this.slots,
      logger: options.logger
    })
    this.slots = new RedisSlotLimiter({
      client,
      instance: this.instance,
      limit: options.maxConnectionsPerUser,
      acquireTimeoutMs: options.acquireTimeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS,
      maxQueuedAcquires: options.maxQueuedAcquires ?? DEFAULT_MAX_QUEUED_ACQUIRES
    })
    this.presence = new RedisPresence({
      client,
      subscriber: presenceSubscriber,
      leaseMs: options.leaseMs,
      connections: async () => (await this.instance.totals(undefined, true)).users,
      logger: options.logger
    })
    this.health.on('up', () => { void this.#recover() })
  }

  /**
   * Connects to Redis and subscribes the bus.
   * @throws {Error} with a message that says what to fix when Redis cannot be reached.
   */
  static async connect (options: RedisBackplaneOptions): Promise<RedisBackplane> {
    const clients = ['push', 'push-bus', 'push-statistics', 'push-presence'].map(name => createRedisClient(options.url, name))
    try {
      for (const client of clients) await connectOrExplain(client, options.url)
    } catch (err) {
      for (const client of clients) client.disconnect()
      throw err
    }
    const backplane = new RedisBackplane(options, clients[0], clients[1], clients[2], clients[3])
    await backplane.bus.start()
    await backplane.presence.start()
    return backplane
  }

  /** Registers this instance's lease. */
  async start (): Promise<void> {
    await this.instance.start()
  }

  /** Cluster totals from Redis; while it is down, this instance's own counts, marked stale. */
  async totals (local: LocalCounts, userId: string, listUsers: boolean): Promise<Totals> {
    const totals = await this.instance.totals(userId, listUsers).catch(() => null)
    if (totals === null) {
      return {
        totalConnections: local.size,
        totalUsers: local.userCount,
        userConnections: local.connectionsOf(userId),
        ...(listUsers ? { users: local.users() } : {}),
        stale: true
      }
    }
    return {
      totalConnections: totals.totalConnections,
      totalUsers: totals.totalUsers,
      userConnections: totals.userConnections,
      ...(listUsers ? { users: totals.users, instances: totals.instances } : {}),
      stale: false
    }
  }

  /** Counted by the publish script, over every instance. */
  eventStatistics (): ScopedEventSource {
    return new ClusterEventStatistics(this.client)
  }

  connectionStatistics (): StatisticsSource {
    return new ClusterConnectionStatistics(this.instance)
  }

  /** The leader-elected statistics loop (see ClusterStatistics). */
  async shareStatistics (gather: () => Promise<Snapshot>, receive: (snapshot: Snapshot) => void): Promise<StatisticsShare> {
    const statistics = new ClusterStatistics({
      instanceId: this.id,
      client: this.client,
      subscriber: this.#statsSubscriber,
      health: this.health,
      gather,
      intervalMs: this.#options.statisticsIntervalMs,
      receive,
      logger: this.#options.logger
    })
    this.#statistics = statistics
    await statistics.start()
    return statistics
  }

  /** Gives back the lease and the leadership and closes the connections. */
  async close (): Promise<void> {
    this.health.stop()
    this.presence.stop()
    await this.#statistics?.stop()
    await this.bus.close()
    await this.instance.stop()
    for (const client of [this.client, this.#busSubscriber, this.#statsSubscriber, this.#presenceSubscriber]) {
      await client.quit().catch(() => { client.disconnect() })
    }
  }

  /**
   * After an outage: restore the lease (Redis may have lost it), repair this
   * instance's slots, and free those released or left unknown meanwhile.
   */
  async #recover (): Promise<void> {
    try {
      await this.instance.register()
      await this.slots.retryReleases()
    } catch {
      // Down again: the next recovery or lease refresh repairs it.
    }
  }
}
