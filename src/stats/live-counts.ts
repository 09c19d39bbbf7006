import { encode } from '../protocol/codec.js'
import type { StatisticsUpdateMessage } from '../protocol/messages.js'

/** This instance's open connections and distinct users (the connection hub). */
export interface LocalCounts {
  readonly size: number
  readonly userCount: number
}

interface Counts {
  connections: number
  users: number
}

/**
 * Brings the connection counts of a statistics frame up to date with this
 * instance's own connections.
 *
 * Snapshots are gathered every STATS_INTERVAL_MS, so the frame a new
 * connection gets first was gathered before it opened and would not count
 * it. Each snapshot is marked with this instance's counts when it was
 * gathered; a frame sent later carries its gathered totals plus what opened
 * and closed here since. Exact with one instance; with Redis the totals are
 * the cluster's and only this instance's changes are added until the next
 * snapshot. A frame whose counts are current is sent as it is, never
 * encoded again.
 */
export class LiveConnectionCounts {
  readonly #local: LocalCounts
  /** This instance's counts when the snapshot in use was gathered. */
  #base: Counts = { connections: 0, users: 0 }
  /** Counts taken when a gathering started, for the snapshot it produced. */
  readonly #gathered = new WeakMap<object, Counts>()
  /** Each frame parsed once (frames are shared by every connection of a scope). */
  readonly #parsed = new WeakMap<Buffer, StatisticsUpdateMessage | null>()

  constructor (local: LocalCounts) {
    this.#local = local
  }

  #now (): Counts {
    return { connections: this.#local.size, users: this.#local.userCount }
  }

  /** Wraps the gathering: the snapshot it returns is marked with the counts at its start. */
  gathering<S extends object> (gather: () => Promise<S>): () => Promise<S> {
    return async () => {
      const counts = this.#now()
      const snapshot = await gather()
      if (!this.#gathered.has(snapshot)) this.#gathered.set(snapshot, counts)
      return snapshot
    }
  }

  /** A snapshot is now the one in use: its counts are this instance's as of its gathering (or now, when it came from another instance). */
  received (snapshot: object): void {
    this.#base = this.#gathered.get(snapshot) ?? this.#now()
  }

  /** `frame` with its connection counts as of now. */
  current (frame: Buffer): Buffer {
    const now = this.#now()
    const connections = now.connections - this.#base.connections
    const users = now.users - this.#base.users
    if (connections === 0 && users === 0) return frame
    let message = this.#parsed.get(frame)
    if (message === undefined) {
      message = parse(frame)
      this.#parsed.set(frame, message)
    }
    const data = message?.data
    if (typeof data?.total_connections !== 'number' || typeof data.total_users !== 'number') return frame
    return encode({
      ...message!,
      data: {
        ...data,
        total_connections: Math.max(0, data.total_connections + connections),
        total_users: Math.max(0, data.total_users + users)
      }
    })
  }
}

function parse (frame: Buffer): StatisticsUpdateMessage | null {
  try {
    const message = JSON.parse(frame.toString('utf8')) as StatisticsUpdateMessage
    return message.type === 'statistics_update' ? message : null
  } catch {
    return null
  }
}
