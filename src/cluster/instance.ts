import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { Redis } from 'ioredis'
import type { ConnectionHub } from '../hub/connection-hub.js'
import { Keys } from './keys.js'
import { dropIfHung } from './redis-client.js'
import { refreshScript, registerScript, totalsScript } from './scripts.js'

/** A new id for this process: readable in `instances`, unique across restarts. */
export function newInstanceId (): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
}

export interface InstanceOptions {
  id: string
  client: Redis
  hub: ConnectionHub
  leaseMs: number
  /** The highest seq this instance has seen, pushed as the seq counter's floor. */
  highestSeq: () => number
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

/** How many writes one pipeline carries when an instance registers its connections again. */
const REGISTER_BATCH = 1000

/**
 * This instance's lease in Redis. The lease holds the instance's connection
 * counts and makes its users' connection slots count; it expires
 * INSTANCE_LEASE_MS after the last refresh, so the slots of a crashed
 * instance are freed within one lease. A live instance refreshes it three
 * times per lease, and registers again from its own state when the lease is
 * gone (Redis restarted, or the process stalled longer than a lease), so
 * live connections never lose their slots.
 */
export class ClusterInstance {
  readonly id: string
  readonly startedAt = Date.now()
  readonly #options: InstanceOptions
  #timer: NodeJS.Timeout | null = null
  #registering: Promise<void> | null = null

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

  /**
   * (Re)writes the lease, the user counts and every local connection's slot
   * from this instance's own state. Concurrent callers share one run.
   */
  async register (): Promise<void> {
    this.#registering ??= this.#register().finally(() => { this.#registering = null })
    await this.#registering
  }

  async #register (): Promise<void> {
    const { client, hub, leaseMs, highestSeq } = this.#options
    await registerScript.run(client, [Keys.instance(this.id), Keys.instanceUsers(this.id), Keys.instances, Keys.seq],
      [this.id, leaseMs, hub.size, this.startedAt, highestSeq()])
    const users = Object.entries(hub.users())
    for (let i = 0; i < users.length; i += REGISTER_BATCH) {
      const batch = client.pipeline()
      batch.hset(Keys.instanceUsers(this.id), Object.fromEntries(users.slice(i, i + REGISTER_BATCH)))
      batch.pexpire(Keys.instanceUsers(this.id), leaseMs)
      await batch.exec()
    }
    let batch = client.pipeline()
    let queued = 0
    for (const member of hub.members()) {
      batch.hset(Keys.slots(member.connection.userId), member.connection.id, this.id)
      if (++queued % REGISTER_BATCH === 0) {
        await batch.exec()
        batch = client.pipeline()
      }
    }
    if (queued % REGISTER_BATCH !== 0) await batch.exec()
  }

  /** Extends the lease; registers again if it had expired. Failures wait for the next refresh. */
  async refresh (): Promise<void> {
    const { client, leaseMs, highestSeq, logger } = this.#options
    if (client.status !== 'ready') return
    try {
      const alive = await refreshScript.run(client, [Keys.instance(this.id), Keys.instanceUsers(this.id), Keys.seq], [leaseMs, highestSeq()])
      if (alive === 0) {
        logger.warn({ instanceId: this.id }, 'this instance\'s lease had expired in Redis; registering its connections again')
        await this.register()
      }
    } catch (err) {
      // Redis is down: RedisHealth has logged it; the next refresh tries again.
      dropIfHung(client, err)
    }
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
      .del(Keys.instance(this.id), Keys.instanceUsers(this.id))
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
