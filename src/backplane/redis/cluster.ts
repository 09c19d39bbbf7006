import type { Redis } from 'ioredis'
import { RedisBus } from './redis-bus.js'
import { RedisHistory } from './redis-history.js'
import type { StatisticsCollector, StatisticsSource } from '../../stats/collector.js'
import { ClusterConnectionStatistics, ClusterEventStatistics, ClusterStatistics } from './cluster-statistics.js'
import { ClusterInstance, newInstanceId } from './instance.js'
import { connectOrExplain, createRedisClient, describeRedisUrl } from './redis-client.js'
import { RedisHealth, type HealthLogger } from './redis-health.js'
import { RedisSlotLimiter } from './slot-leases.js'

export interface ClusterOptions {
  url: string
  leaseMs: number
  historySize: number
  /** How long a publish's idempotency key is remembered in Redis. */
  idempotencyWindowMs?: number
  maxConnectionsPerUser: number
  logger: HealthLogger
}

/**
 * Everything one instance shares with the others through Redis: the bus,
 * the connection slots, its lease, the history and the statistics
 * leadership, over three connections (commands, bus subscription,
 * statistics subscription).
 */
export class Cluster {
  readonly id = newInstanceId()
  readonly client: Redis
  readonly health: RedisHealth
  readonly bus: RedisBus
  readonly instance: ClusterInstance
  readonly slots: RedisSlotLimiter
  readonly history: RedisHistory
  readonly #statsSubscriber: Redis
  readonly #busSubscriber: Redis
  readonly #logger: HealthLogger
  #statistics: ClusterStatistics | null = null

  private constructor (options: ClusterOptions, client: Redis, busSubscriber: Redis, statsSubscriber: Redis) {
    this.client = client
    this.#busSubscriber = busSubscriber
    this.#statsSubscriber = statsSubscriber
    this.#logger = options.logger
    this.health = new RedisHealth([client, busSubscriber, statsSubscriber], describeRedisUrl(options.url), options.logger)
    this.bus = new RedisBus({ client, subscriber: busSubscriber, historySize: options.historySize, idempotencyWindowMs: options.idempotencyWindowMs, logger: options.logger })
    this.instance = new ClusterInstance({
      id: this.id,
      client,
      leaseMs: options.leaseMs,
      highestSeq: () => this.bus.highestSeq,
      slots: () => this.slots,
      logger: options.logger
    })
    this.slots = new RedisSlotLimiter({ client, instance: this.instance, limit: options.maxConnectionsPerUser })
    this.history = new RedisHistory({ client, maxMessages: options.historySize })
    this.health.on('up', () => { void this.#recover() })
  }

  /**
   * Connects to Redis and subscribes the bus.
   * @throws {Error} with a message that says what to fix when Redis cannot be reached.
   */
  static async connect (options: ClusterOptions): Promise<Cluster> {
    const clients = ['push', 'push-bus', 'push-statistics'].map(name => createRedisClient(options.url, name))
    try {
      for (const client of clients) await connectOrExplain(client, options.url)
    } catch (err) {
      for (const client of clients) client.disconnect()
      throw err
    }
    const cluster = new Cluster(options, clients[0], clients[1], clients[2])
    await cluster.bus.start()
    return cluster
  }

  /** Registers this instance's lease; call once the hub exists. */
  async start (): Promise<void> {
    await this.instance.start()
  }

  /** The statistics sources that count the whole cluster. */
  statisticsSources (): StatisticsSource[] {
    return [new ClusterEventStatistics(this.client), new ClusterConnectionStatistics(this.instance)]
  }

  /** Starts the leader-elected statistics loop; `push` sends each new snapshot to local connections. */
  async startStatistics (collector: StatisticsCollector, intervalMs: number, push: (frame: Buffer) => void): Promise<ClusterStatistics> {
    this.#statistics = new ClusterStatistics({
      instanceId: this.id,
      client: this.client,
      subscriber: this.#statsSubscriber,
      health: this.health,
      collector,
      intervalMs,
      push,
      logger: this.#logger
    })
    await this.#statistics.start()
    return this.#statistics
  }

  /** Gives back the lease and the leadership and closes the connections. */
  async close (): Promise<void> {
    this.health.stop()
    await this.#statistics?.stop()
    await this.bus.close()
    await this.instance.stop()
    for (const client of [this.client, this.#busSubscriber, this.#statsSubscriber]) {
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
