import type { Redis } from 'ioredis'
import { Keys } from './keys.js'
import { dropIfHung } from './redis-client.js'
import { refreshScript, registerScript, totalsScript } from './lease-scripts.js'
import { loadScripts } from './script.js'

/**
 * The connection slots this instance holds, as the slot limiter knows them:
 * the local truth its entries in Redis are checked and repaired against.
 */
export interface HeldSlots {
  /**
   * How many slots it holds, and the connections whose slot may or may not
   * be in Redis right now (acquires in flight, releases not done); null when
   * there are too many of those to name.
   */
  expectation (): { held: number, unsettled: string[] } | null
  /** Makes this instance's entries in Redis equal the slots it holds. */
  reconcile (): Promise<void>
  /** Releases again what could not be released while Redis was unreachable. */
  retryReleases (): Promise<void>
}

export interface InstanceOptions {
  id: string
  client: Redis
  leaseMs: number
  /** The highest seq this instance has seen, pushed as the seq counter's floor. */
  highestSeq: () => number
  /** The slot limiter, created after the instance. */
  slots: () => HeldSlots | undefined
  logger: { warn (obj: object, msg: string): void }
}

export interface ClusterTotals {
  totalConnections: number
  totalUsers: number
  /** Instance id → open connections. */
  instances: Record<string, number>
  /** User id → open connections, when asked for. */
  users: Record<string, number>
  /** The asking user's connections across the cluster. */
  userConnections: number
}

/**
 * Clock samples from a slower round trip than this are ignored: the offset
 * they give may be off by half the round trip.
 */
const CLOCK_SAMPLE_MAX_RTT_MS = 200

/**
 * This instance's lease in Redis. The lease makes its users' connection
 * slots count and carries its connection set; it expires INSTANCE_LEASE_MS
 * after the last refresh, so the slots of a crashed instance are freed
 * within one lease. A live instance refreshes it three times per lease, and
 * registers again when the lease is gone (Redis restarted, or the process
 * stalled longer than a lease), so live connections never lose their slots.
 * Each refresh also compares the connection set in Redis with the slots the
 * instance holds and repairs any difference.
 */
export class ClusterInstance {
  readonly id: string
  readonly startedAt = Date.now()
  readonly #options: InstanceOptions
  #timer: NodeJS.Timeout | null = null
  #registering: Promise<void> | null = null
  /** Redis's clock minus this process's clock, in ms, measured on each lease write. */
  #clockOffset = 0

  constructor (options: InstanceOptions) {
    this.id = options.id
    this.#options = options
  }

  /** Registers now and keeps the lease fresh until `stop()`. */
  async start (): Promise<void> {
    await this.register()
    this.#timer = setInterval(() => { void this.refresh() }, Math.max(50, Math.floor(this.#options.leaseMs / 3)))
    this.#timer.unref()
  }

  /** Now on Redis's clock (ms), as far as this instance can tell: for deadlines a script checks. */
  redisNow (): number {
    return Math.round(Date.now() + this.#clockOffset)
  }

  /**
   * Creates the lease (or extends it) and restores every slot this instance
   * holds. Concurrent callers share one run.
   */
  async register (): Promise<void> {
    this.#registering ??= this.#register().finally(() => { this.#registering = null })
    await this.#registering
  }

  async #register (): Promise<void> {
    const { client, leaseMs, highestSeq } = this.#options
    // Before any slot is taken: see Script on why a first use must not fall back.
    await loadScripts(client)
    const sentAt = Date.now()
    const [seconds, micros] = await registerScript.run(client,
      [Keys.instance(this.id), Keys.instanceConns(this.id), Keys.instanceUsers(this.id), Keys.instances, Keys.seq],
      [this.id, leaseMs, this.startedAt, highestSeq()]) as [string, string]
    this.#observeClock(sentAt, seconds, micros)
    await this.#options.slots()?.reconcile()
  }

  /**
   * Extends the lease; registers again if it had expired. Repairs the
   * connection set when its size differs from the slots held. Failures wait
   * for the next refresh.
   */
  async refresh (): Promise<void> {
    const { client, leaseMs, highestSeq, logger } = this.#options
    if (client.status !== 'ready') return
    try {
      const slots = this.#options.slots()
      await slots?.retryReleases()
      // Taken when the script is sent: Redis runs it after every command sent before.
      const expected = slots?.expectation() ?? null
      const sentAt = Date.now()
      const [alive, seconds, micros, stored] = await refreshScript.run(client,
        [Keys.instance(this.id), Keys.instanceConns(this.id), Keys.instanceUsers(this.id), Keys.seq],
        [leaseMs, highestSeq(), ...expected?.unsettled ?? []]) as [number, string, string, number]
      this.#observeClock(sentAt, seconds, micros)
      if (Number(alive) === 0) {
        logger.warn({ instanceId: this.id }, 'this instance\'s lease had expired in Redis; registering its connections again')
        await this.register()
      } else if (expected !== null && Number(stored) !== expected.held && slots !== undefined) {
        logger.warn({ instanceId: this.id, inRedis: Number(stored), held: expected.held },
          'this instance\'s connection count in Redis differs from the connections it holds; repairing it')
        await slots.reconcile()
      }
    } catch (err) {
      // Redis is down: RedisHealth has logged it; the next refresh tries again.
      dropIfHung(client, err)
    }
  }

  #observeClock (sentAt: number, seconds: string, micros: string): void {
    const receivedAt = Date.now()
    if (receivedAt - sentAt > CLOCK_SAMPLE_MAX_RTT_MS) return
    const redisMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
    if (Number.isFinite(redisMs)) this.#clockOffset = redisMs - (sentAt + receivedAt) / 2
  }

  /** Cluster-wide connection counts; `userId` adds that user's connections, `listUsers` the per-user map. */
  async totals (userId?: string, listUsers = false): Promise<ClusterTotals> {
    const keys = userId === undefined ? [Keys.instances] : [Keys.instances, Keys.slots(userId)]
    const [total, userCount, instances, users, mine] = await totalsScript.run(this.#options.client, keys,
      [Keys.instancePrefix, listUsers ? '1' : '0']) as [number, number, string[], Array<string | number>, number]
    return {
      totalConnections: Number(total),
      totalUsers: Number(userCount),
      instances: pairs(instances),
      users: pairs(users),
      userConnections: Number(mine)
    }
  }

  /** Stops refreshing and gives the lease back, so this instance's slots free at once. */
  async stop (): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    const { client } = this.#options
    if (client.status !== 'ready') return
    await client.multi()
      .del(Keys.instance(this.id), Keys.instanceConns(this.id), Keys.instanceUsers(this.id))
      .srem(Keys.instances, this.id)
      .exec()
      .catch(() => {})
  }
}

/** Redis's flat [key, value, …] as a record; null-prototype, since keys are user ids ("__proto__" too). */
function pairs (flat: Array<string | number>): Record<string, number> {
  const record: Record<string, number> = Object.create(null)
  for (let i = 0; i + 1 < flat.length; i += 2) record[String(flat[i])] = Number(flat[i + 1])
  return record
}
