import type { Redis } from 'ioredis'
import type { AcquireResult, SlotLimiter } from '../slot-limiter.js'
import type { ClusterInstance, HeldSlots } from './instance.js'
import { Channels, Keys } from './keys.js'
import { dropIfHung, REDIS_COMMAND_TIMEOUT_MS } from './redis-client.js'
import { acquireBatchScript, releaseBatchScript, restoreSlotsScript } from './lease-scripts.js'
import { AcquireBatcher, type PendingAcquire } from './acquire-batcher.js'
import { ReleaseBatcher, type Release } from './release-batcher.js'

export interface RedisSlotLimiterOptions {
  client: Redis
  instance: ClusterInstance
  limit: number
  /** How long a handshake waits for its slot before it is refused as busy (REDIS_ACQUIRE_TIMEOUT_MS). */
  acquireTimeoutMs: number
  /** Acquires waiting to be sent, at most (REDIS_ACQUIRE_QUEUE_MAX). */
  maxQueuedAcquires: number
}

/** Acquires per script call: a few milliseconds of Redis time at most, so other commands are not held up. */
const MAX_BATCH = 200

/** Script calls of acquires in flight: one runs in Redis while the next is on its way. */
const MAX_BATCHES_IN_FLIGHT = 2

/** While handshakes keep coming, one acquire call per this many ms at most (see AcquireBatcher). */
const ACQUIRE_LINGER_MS = 5

/**
 * How long before the command timeout an acquire script stops writing. It
 * covers the error of this instance's estimate of Redis's clock (at most half
 * a sampled round trip), so a script Redis runs after this instance stopped
 * waiting writes nothing. One that wrote and whose answer was lost anyway is
 * released as an acquire of unknown outcome.
 */
const DEADLINE_MARGIN_MS = 100

/**
 * Above this many acquires in flight and releases pending, a lease refresh
 * does not compare counts (the script would carry every id); the next one does.
 */
const MAX_UNSETTLED_CHECKED = 1000

/** Slots written or released per script call: at 500, a few milliseconds of Redis time. */
const REPAIR_BATCH = 500

/**
 * The per-user connection limit across every instance. A slot is a field in
 * the user's hash naming the instance that holds it; it counts while that
 * instance's lease lives. The check and the write run in one Lua script, so
 * racing handshakes on different instances can never exceed the limit.
 *
 * This instance keeps its own account of the slots it holds. Redis may run
 * a command after the instance gave up waiting for it (a stall), or not at
 * all: an acquire whose outcome is unknown is released once Redis answers
 * again, and the instance's entries in Redis are compared with this account
 * on every lease refresh and repaired from it (see `reconcile`).
 */
export class RedisSlotLimiter implements SlotLimiter, HeldSlots {
  readonly limit: number
  readonly #client: Redis
  readonly #instance: ClusterInstance
  /** Connection id → user id of every slot this instance holds. */
  readonly #held = new Map<string, string>()
  /** Connection id → user id of acquires sent and not answered yet. */
  readonly #inflight = new Map<string, string>()
  /**
   * Connection id → user id of slots that may be in Redis though no
   * connection holds them: failed releases, and acquires whose answer never
   * came. Released when Redis answers again. An entry is added only for a
   * command Redis was sent, so the map is bounded by the connections this
   * instance had plus the handshakes of one command timeout.
   */
  readonly #pendingReleases = new Map<string, string>()
  readonly #batcher: AcquireBatcher
  readonly #releases: ReleaseBatcher
  #retrying: Promise<void> | null = null
  #reconciling: Promise<void> | null = null
  #reconcileAgain: Promise<void> | null = null

  constructor (options: RedisSlotLimiterOptions) {
    this.limit = options.limit
    this.#client = options.client
    this.#instance = options.instance
    this.#batcher = new AcquireBatcher({
      timeoutMs: options.acquireTimeoutMs,
      maxQueued: options.maxQueuedAcquires,
      maxBatch: MAX_BATCH,
      maxInFlight: MAX_BATCHES_IN_FLIGHT,
      lingerMs: ACQUIRE_LINGER_MS,
      send: async (batch) => { await this.#send(batch) }
    })
    this.#releases = new ReleaseBatcher({
      maxBatch: REPAIR_BATCH,
      send: async (batch) => { await this.#release(batch) },
      failed: (batch) => { for (const [connectionId, userId] of batch) this.#pendingReleases.set(connectionId, userId) }
    })
  }

  /** The queue of acquires is full: Redis is not keeping up with the handshakes. */
  get busy (): boolean {
    return this.#batcher.full
  }

  /** Queued, then sent with the other handshakes' acquires in one script call (see AcquireBatcher). */
  async acquire (userId: string, connectionId: string): Promise<AcquireResult> {
    if (this.#client.status !== 'ready') return { ok: false, reason: 'unavailable' }
    return await this.#batcher.submit(userId, connectionId)
  }

  /**
   * One script call for a batch. Every acquire ends in exactly one of: held
   * (admitted and answered in time), none (refused, or too late to write),
   * or released again: admitted after its handshake gave up waiting, or of
   * unknown outcome because the answer never came (released once Redis
   * answers again).
   */
  async #send (batch: PendingAcquire[]): Promise<void> {
    if (this.#client.status !== 'ready') {
      for (const pending of batch) pending.answer({ ok: false, reason: 'unavailable' })
      return
    }
    for (const pending of batch) this.#inflight.set(pending.connectionId, pending.userId)
    let results: number[] | null = null
    try {
      results = await this.#tryAcquire(batch)
      if (results.some(result => result === -1)) {
        // This instance's lease is gone (Redis lost its data): restore it, then ask again.
        await this.#instance.register()
        results = await this.#tryAcquire(batch)
      }
    } catch (err) {
      dropIfHung(this.#client, err)
    }
    // Settled in one synchronous step with leaving `#inflight`, so `reconcile` never sees a slot in neither.
    for (let i = 0; i < batch.length; i++) {
      const { userId, connectionId } = batch[i]
      this.#inflight.delete(connectionId)
      const result = results === null ? null : results[i]
      if (result === 1) {
        if (batch[i].answer({ ok: true })) this.#held.set(connectionId, userId)
        else this.release(userId, connectionId)
      } else if (result === 0) {
        batch[i].answer({ ok: false, reason: 'connection_limit', limit: this.limit })
      } else if (result === -2) {
        batch[i].answer({ ok: false, reason: 'busy' })
      } else {
        // No answer (or the lease could not be restored): the slot may have been written.
        if (result === null) this.#pendingReleases.set(connectionId, userId)
        batch[i].answer({ ok: false, reason: 'unavailable' })
      }
    }
  }

  /** Sent with the other releases of this turn in one script call (see ReleaseBatcher); a failed one is retried when Redis answers again. */
  release (userId: string, connectionId: string): void {
    this.#held.delete(connectionId)
    this.#releases.add(connectionId, userId)
  }

  expectation (): { held: number, unsettled: string[] } | null {
    if (this.#inflight.size + this.#pendingReleases.size + this.#releases.size > MAX_UNSETTLED_CHECKED) return null
    // Each id once: the refresh script subtracts one per id it finds.
    const unsettled = new Set([...this.#inflight.keys(), ...this.#pendingReleases.keys(), ...this.#releases.unsettled()])
    return { held: this.#held.size, unsettled: [...unsettled] }
  }

  /** Retries the releases that failed during an outage, and releases acquires of unknown outcome. */
  async retryReleases (): Promise<void> {
    this.#retrying ??= this.#retryReleases().finally(() => { this.#retrying = null })
    await this.#retrying
  }

  async #retryReleases (): Promise<void> {
    const pending = [...this.#pendingReleases]
    for (let i = 0; i < pending.length; i += REPAIR_BATCH) {
      const batch = pending.slice(i, i + REPAIR_BATCH)
      await this.#release(batch)
      for (const [connectionId] of batch) this.#pendingReleases.delete(connectionId)
    }
  }

  /**
   * Makes this instance's connection set in Redis, and the slots it names,
   * equal the slots held here: entries nobody holds are released, held slots
   * Redis lost are written again. Acquires still in flight are left alone.
   * Every step can run twice, so racing with handshakes and closes is safe.
   * A call during a run gets a fresh run after it (shared by every such
   * call): the running one may have read Redis before what prompted the call.
   */
  async reconcile (): Promise<void> {
    if (this.#reconciling !== null) {
      this.#reconcileAgain ??= this.#reconciling.catch(() => {}).then(async () => {
        this.#reconcileAgain = null
        await this.reconcile()
      })
      await this.#reconcileAgain
      return
    }
    this.#reconciling = this.#reconcile().finally(() => { this.#reconciling = null })
    await this.#reconciling
  }

  async #reconcile (): Promise<void> {
    const id = this.#instance.id
    const stored = await this.#client.hgetall(Keys.instanceConns(id))
    // Decided and sent in one synchronous step: a release that comes later is sent after these.
    const stale = Object.entries(stored).filter(([connectionId]) => !this.#held.has(connectionId) && !this.#inflight.has(connectionId))
    const missing = [...this.#held].filter(([connectionId]) => !Object.hasOwn(stored, connectionId))
    const writes: Array<Promise<unknown>> = []
    for (let i = 0; i < missing.length; i += REPAIR_BATCH) {
      const batch = missing.slice(i, i + REPAIR_BATCH)
      writes.push(restoreSlotsScript.run(this.#client,
        [Keys.instance(id), Keys.instanceConns(id), Keys.instanceUsers(id), Keys.presenceOnline, ...batch.map(([, userId]) => Keys.slots(userId))],
        [id, Channels.presence, ...batch.flat()]))
    }
    for (let i = 0; i < stale.length; i += REPAIR_BATCH) writes.push(this.#release(stale.slice(i, i + REPAIR_BATCH)))
    await Promise.all(writes)
  }

  async #tryAcquire (batch: PendingAcquire[]): Promise<number[]> {
    const id = this.#instance.id
    const redisNow = this.#instance.redisNow()
    const now = Date.now()
    // No script may write once its command could have timed out here: that answer would be lost.
    const latest = redisNow + REDIS_COMMAND_TIMEOUT_MS - DEADLINE_MARGIN_MS
    const keys = [Keys.instance(id), Keys.instanceConns(id), Keys.instanceUsers(id), Keys.presenceOnline]
    const args: Array<string | number> = [this.limit, id, Keys.instancePrefix, Channels.presence]
    for (const { userId, connectionId, deadline } of batch) {
      keys.push(Keys.slots(userId))
      args.push(connectionId, userId, Math.min(latest, redisNow + deadline - now))
    }
    const results = await acquireBatchScript.run(this.#client, keys, args) as number[]
    return results.map(Number)
  }

  /** Frees slots (connection id, user id) in one script call. */
  async #release (batch: readonly Release[]): Promise<void> {
    const id = this.#instance.id
    const keys = [Keys.instanceConns(id), Keys.instanceUsers(id), Keys.presenceOnline]
    const args: string[] = [Keys.instancePrefix, Channels.presence]
    for (const [connectionId, userId] of batch) {
      keys.push(Keys.slots(userId))
      args.push(connectionId, userId)
    }
    await releaseBatchScript.run(this.#client, keys, args)
  }
}
