import { EventEmitter } from 'node:events'
import type { OnlineUser, Presence, PresenceChange } from './backplane.js'

/**
 * Presence in one process, fed by the slot limiter: a user is online from
 * their first slot to their last. The map holds one entry per user with a
 * slot, so it is bounded like the slots are.
 */
export class MemoryPresence implements Presence {
  readonly #since = new Map<string, number>()
  readonly #connections: () => Map<string, number>
  readonly #events = new EventEmitter<{ change: [PresenceChange] }>()

  /** @param connections user id → slots held (the limiter's own count). */
  constructor (connections: () => Map<string, number>) {
    this.#connections = connections
  }

  /** The slot limiter's hook. */
  readonly changed = (userId: string, online: boolean): void => {
    const at = Date.now()
    let since = at
    if (online) this.#since.set(userId, at)
    else {
      since = this.#since.get(userId) ?? at
      this.#since.delete(userId)
    }
    this.#events.emit('change', { userId, online, at, since })
  }

  async online (): Promise<OnlineUser[]> {
    const connections = this.#connections()
    return [...this.#since].map(([userId, since]) => ({ userId, connections: connections.get(userId) ?? 0, since }))
  }

  onChange (listener: (change: PresenceChange) => void): () => void {
    this.#events.on('change', listener)
    return () => { this.#events.off('change', listener) }
  }

  /** One process never misses a change: nothing to resync. */
  onResync (): () => void {
    return () => {}
  }
}
