/**
 * The per-user connection limit, asked before a connection joins the hub.
 * It is asynchronous because in a cluster the slots are shared through
 * Redis; in one process it answers at once.
 */

export type AcquireResult =
  | { ok: true }
  | { ok: false, reason: 'connection_limit', limit: number }
  /** The shared slot store cannot be reached; the client should retry later. */
  | { ok: false, reason: 'unavailable' }
  /** The shared slot store is reachable but too slow right now (load is shed); the client should retry shortly. */
  | { ok: false, reason: 'busy' }

export interface SlotLimiter {
  /** The most connections one user may hold open at once. */
  readonly limit: number
  /** True while new acquires would be refused as `busy` at once; upgrades are then refused before they happen. */
  readonly busy: boolean
  /** Takes a slot for the connection if its user has one free. */
  acquire (userId: string, connectionId: string): Promise<AcquireResult>
  /** Frees the connection's slot. Safe to call more than once. */
  release (userId: string, connectionId: string): void
}

/**
 * Slots kept in this process. The check and the reservation happen in one
 * synchronous step, so racing handshakes of one user never exceed the limit.
 */
export class LocalSlotLimiter implements SlotLimiter {
  readonly limit: number
  readonly busy = false
  readonly #byUser = new Map<string, Set<string>>()
  readonly #onUser: ((userId: string, online: boolean) => void) | undefined

  /** @param onUser told when a user's first slot is taken (online) and their last freed (presence). */
  constructor (limit: number, onUser?: (userId: string, online: boolean) => void) {
    this.limit = limit
    this.#onUser = onUser
  }

  async acquire (userId: string, connectionId: string): Promise<AcquireResult> {
    return this.tryAcquire(userId, connectionId)
  }

  /** The synchronous check behind `acquire`. */
  tryAcquire (userId: string, connectionId: string): AcquireResult {
    let slots = this.#byUser.get(userId)
    if (slots !== undefined && slots.size >= this.limit && !slots.has(connectionId)) {
      return { ok: false, reason: 'connection_limit', limit: this.limit }
    }
    if (slots === undefined) {
      slots = new Set()
      this.#byUser.set(userId, slots)
      slots.add(connectionId)
      this.#onUser?.(userId, true)
      return { ok: true }
    }
    slots.add(connectionId)
    return { ok: true }
  }

  release (userId: string, connectionId: string): void {
    const slots = this.#byUser.get(userId)
    if (slots === undefined) return
    slots.delete(connectionId)
    if (slots.size === 0) {
      this.#byUser.delete(userId)
      this.#onUser?.(userId, false)
    }
  }

  /** User id → slots held. */
  users (): Map<string, number> {
    const users = new Map<string, number>()
    for (const [userId, slots] of this.#byUser) users.set(userId, slots.size)
    return users
  }
}
