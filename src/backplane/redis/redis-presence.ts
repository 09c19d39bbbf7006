import { EventEmitter } from 'node:events'
import type { Redis } from 'ioredis'
import type { OnlineUser, Presence, PresenceChange } from '../backplane.js'
import { Channels, Keys } from './keys.js'
import { presenceSweepScript } from './lease-scripts.js'

export interface RedisPresenceOptions {
  client: Redis
  /** A connection of its own: a subscribed Redis connection can do nothing else. */
  subscriber: Redis
  /** INSTANCE_LEASE_MS: a crashed instance's users are swept offline within about a third of it after its lease ends. */
  leaseMs: number
  /** User id → connections over every live instance. */
  connections: () => Promise<Record<string, number>>
  logger: { warn (obj: object, msg: string): void }
}

/** Online users checked per sweep call: bounded work per call, a full pass over several. */
const SWEEP_PAGE = 500

/**
 * Presence across the cluster. The slot scripts detect each transition
 * atomically (a user's live slots going 0 → 1 or back to 0) and publish it
 * on the presence channel; every instance subscribes. Slots of a crashed
 * instance are not released by anyone: they stop counting when its lease
 * expires, and a sweep that every instance runs a page at a time, a third
 * of a lease apart, takes their users offline.
 */
export class RedisPresence implements Presence {
  readonly #options: RedisPresenceOptions
  readonly #events = new EventEmitter<{ change: [PresenceChange], resync: [] }>()
  /** The subscription dropped since it was last made: changes published meanwhile were missed. */
  #cut = false
  #timer: NodeJS.Timeout | null = null
  #cursor = '0'
  #sweeping = false

  constructor (options: RedisPresenceOptions) {
    this.#options = options
  }

  async start (): Promise<void> {
    const { subscriber, leaseMs } = this.#options
    subscriber.on('message', (channel: string, payload: string) => {
      if (channel === Channels.presence) this.#received(payload)
    })
    subscriber.on('close', () => { this.#cut = true })
    subscriber.on('ready', () => {
      subscriber.subscribe(Channels.presence).then(() => {
        if (!this.#cut) return
        this.#cut = false
        this.#events.emit('resync')
      }).catch(() => {})
    })
    await subscriber.subscribe(Channels.presence)
    this.#timer = setInterval(() => { void this.sweep() }, Math.max(50, Math.floor(leaseMs / 3)))
    this.#timer.unref()
  }

  stop (): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
  }

  /** One page of the sweep; a failed one is tried again at the next tick (Redis down is logged by RedisHealth). */
  async sweep (): Promise<void> {
    if (this.#sweeping || this.#options.client.status !== 'ready') return
    this.#sweeping = true
    try {
      this.#cursor = String(await presenceSweepScript.run(this.#options.client, [Keys.presenceOnline],
        [this.#cursor, SWEEP_PAGE, Keys.slotsPrefix, Keys.instancePrefix, Channels.presence]))
    } catch {
      // Down: the next tick tries again from the same cursor.
    } finally {
      this.#sweeping = false
    }
  }

  async online (): Promise<OnlineUser[]> {
    const [since, connections] = await Promise.all([
      this.#options.client.hgetall(Keys.presenceOnline),
      this.#options.connections()
    ])
    return Object.entries(since).map(([userId, at]) => ({ userId, connections: connections[userId] ?? 0, since: Number(at) }))
  }

  onChange (listener: (change: PresenceChange) => void): () => void {
    this.#events.on('change', listener)
    return () => { this.#events.off('change', listener) }
  }

  /** Fired once the subscription is back after it dropped (transitions published meanwhile are not read back). */
  onResync (listener: () => void): () => void {
    this.#events.on('resync', listener)
    return () => { this.#events.off('resync', listener) }
  }

  /**
   * The transitions of one script call, in order: a JSON array (a single
   * object, as instances of earlier versions published, is read as one).
   * One that cannot be read is logged and skipped, never thrown into the subscriber.
   */
  #received (payload: string): void {
    let changes: unknown
    try {
      changes = JSON.parse(payload)
    } catch (err) {
      this.#options.logger.warn({ err, payload: payload.slice(0, 200) }, 'skipped an unreadable presence message')
      return
    }
    for (const change of Array.isArray(changes) ? changes : [changes]) {
      const { u, on, t, s } = (change ?? {}) as { u: unknown, on: unknown, t: unknown, s: unknown }
      if (typeof u !== 'string' || typeof t !== 'number' || typeof s !== 'number') {
        this.#options.logger.warn({ change: String(JSON.stringify(change)).slice(0, 200) }, 'skipped an unreadable presence change')
        continue
      }
      try {
        this.#events.emit('change', { userId: u, online: on === 1, at: t, since: s })
      } catch (err) {
        this.#options.logger.warn({ err, userId: u }, 'a presence listener failed')
      }
    }
  }
}
