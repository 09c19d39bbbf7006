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
  readonly #templates = new WeakMap<Buffer, Template | null>()
  #last: { frame: Buffer, c: number, u: number, out: Buffer } | null = null

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
    let template = this.#templates.get(frame)
    if (template === undefined) {
      template = templateOf(frame)
      this.#templates.set(frame, template)
    }
    if (template === null) return frame
    const c = Math.max(0, template.connections + connections)
    const u = Math.max(0, template.users + users)
    // A handshake storm asks for the same counts more than once between changes.
    const last = this.#last
    if (last !== null && last.frame === frame && last.c === c && last.u === u) return last.out
    const out = Buffer.from(template.parts[0] + c + template.parts[1] + u + template.parts[2])
    this.#last = { frame, c, u, out }
    return out
  }
}

/**
 * A statistics frame split around its two counts, so that a frame with other
 * counts is two string joins and one copy instead of a parse and a
 * stringify of the whole snapshot.
 */
interface Template {
  readonly parts: readonly [string, string, string]
  readonly connections: number
  readonly users: number
}

const CONNECTIONS_MARK = JSON.stringify('\u0000total_connections')
const USERS_MARK = JSON.stringify('\u0000total_users')

function templateOf (frame: Buffer): Template | null {
  const message = parse(frame)
  const data = message?.data
  if (typeof data?.total_connections !== 'number' || typeof data.total_users !== 'number') return null
  const text = JSON.stringify({ ...message, data: { ...data, total_connections: '\u0000total_connections', total_users: '\u0000total_users' } })
  const [before, rest, ...extra] = text.split(CONNECTIONS_MARK)
  if (rest === undefined || extra.length > 0) return null
  const [middle, after, ...more] = rest.split(USERS_MARK)
  if (after === undefined || more.length > 0) return null
  return { parts: [before, middle, after], connections: data.total_connections, users: data.total_users }
}

function parse (frame: Buffer): StatisticsUpdateMessage | null {
  try {
    const message = JSON.parse(frame.toString('utf8')) as StatisticsUpdateMessage
    return message.type === 'statistics_update' ? message : null
  } catch {
    return null
  }
}
