import type { Redis } from 'ioredis'
import type { AcquireResult, SlotLimiter } from '../hub/slot-limiter.js'
import type { ClusterInstance } from './instance.js'
import { Keys } from './keys.js'
import { dropIfHung } from './redis-client.js'
import { acquireScript, releaseScript } from './scripts.js'

export interface RedisSlotLimiterOptions {
  client: Redis
  instance: ClusterInstance
  limit: number
}

/**
 * The per-user connection limit across every instance. A slot is a field in
 * the user's hash naming the instance that holds it; it counts while that
 * instance's lease lives. The check and the write run in one Lua script, so
 * racing handshakes on different instances can never exceed the limit.
 */
export class RedisSlotLimiter implements SlotLimiter {
  readonly limit: number
  readonly #client: Redis
  readonly #instance: ClusterInstance
  /** Releases that failed while Redis was down, retried when it is back. */
  readonly #pendingReleases = new Map<string, string>()

  constructor (options: RedisSlotLimiterOptions) {
    this.limit = options.limit
    this.#client = options.client
    this.#instance = options.instance
  }

  async acquire (userId: string, connectionId: string): Promise<AcquireResult> {
    if (this.#client.status !== 'ready') return { ok: false, reason: 'unavailable' }
    try {
      let admitted = await this.#tryAcquire(userId, connectionId)
      if (admitted === -1) {
        // This instance's lease is gone (Redis lost its data): restore it, then ask again.
        await this.#instance.register()
        admitted = await this.#tryAcquire(userId, connectionId)
      }
      if (admitted === 1) return { ok: true }
      if (admitted === 0) return { ok: false, reason: 'connection_limit', limit: this.limit }
      return { ok: false, reason: 'unavailable' }
    } catch (err) {
      dropIfHung(this.#client, err)
      return { ok: false, reason: 'unavailable' }
    }
  }

  release (userId: string, connectionId: string): void {
    this.#release(userId, connectionId).catch(() => {
      this.#pendingReleases.set(connectionId, userId)
    })
  }

  /** Retries the releases that failed during an outage. */
  async retryReleases (): Promise<void> {
    for (const [connectionId, userId] of [...this.#pendingReleases]) {
      try {
        await this.#release(userId, connectionId)
        this.#pendingReleases.delete(connectionId)
      } catch {
        return
      }
    }
  }

  async #tryAcquire (userId: string, connectionId: string): Promise<number> {
    const id = this.#instance.id
    return Number(await acquireScript.run(this.#client, [Keys.slots(userId), Keys.instance(id), Keys.instanceUsers(id)],
      [this.limit, connectionId, id, Keys.instancePrefix, userId]))
  }

  async #release (userId: string, connectionId: string): Promise<void> {
    const id = this.#instance.id
    await releaseScript.run(this.#client, [Keys.slots(userId), Keys.instance(id), Keys.instanceUsers(id)], [connectionId, userId])
  }
}
