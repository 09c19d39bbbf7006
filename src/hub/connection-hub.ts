import { encode } from '../protocol/codec.js'
import { frameOf } from '../protocol/frame-cache.js'
import type { SequencedMessage, ServerMessage } from '../protocol/messages.js'
import { Fanout, type FanoutReport } from './fanout.js'
import { Member, type Connection } from './member.js'
import { OutboundFrame } from './outbound-frame.js'
import { DEFAULT_LIMITS, newCounters, type OutboundCounters, type OutboundLimits } from './outbound-queue.js'

// Members and their Connection live in member.ts, so that fan-out can name them without importing the hub.
export { Member, type Connection }

export interface HubOptions {
  /** Connections served per slice of a fan-out before yielding to the event loop (default 500). */
  fanoutSliceSize?: number
  /** Per-connection outbound limits (SLOW_CONSUMER_SOFT_BYTES / _HARD_BYTES). */
  outboundLimits?: OutboundLimits
  /** Called when a message has been handed to every connection it was for (metrics). */
  onFanout?: (report: FanoutReport) => void
}

/**
 * Owns every open connection: per-user tracking, subscriptions and fan-out.
 * A message is serialized once per fan-out, never once per client, and
 * fanned out in slices that yield to the event loop (see fanout.ts).
 *
 * It registers whatever it is given: the per-user limit belongs to the slot
 * limiter, asked before a connection is added, so the rule lives in one
 * place and is the same in one process and in a cluster.
 */
export class ConnectionHub {
  /** Coalesced writes, superseded snapshots and slow-consumer closes, for status and metrics. */
  readonly counters: OutboundCounters = newCounters()
  /** What transports give each connection's outbound queue. */
  readonly outbound: { limits: OutboundLimits, counters: OutboundCounters }
  readonly #members = new Map<string, Member>()
  readonly #byUser = new Map<string, Set<Member>>()
  readonly #fanout: Fanout
  /** Incremented per enqueued message; a member joining records it. */
  #epoch = 0
  /** Members that joined so far, modulo 2^30 (a small integer stays unboxed). */
  #joined = 0

  constructor (options: HubOptions = {}) {
    this.outbound = { limits: options.outboundLimits ?? DEFAULT_LIMITS, counters: this.counters }
    this.#fanout = new Fanout({
      all: () => this.#members.values(),
      ofUser: (userId) => (this.#byUser.get(userId) ?? EMPTY).values()
    }, options.fanoutSliceSize ?? 500)
    this.#fanout.onError = (_err, member) => { member.connection.terminate() }
    if (options.onFanout !== undefined) this.#fanout.onDone = options.onFanout
  }

  /**
   * Registers a connection: from now on it gets the messages delivered to
   * it. The caller has already taken the connection's slot.
   */
  add (connection: Connection): Member {
    if (this.#members.has(connection.id)) throw new Error(`connection ${connection.id} is already registered`)
    const member = new Member(connection)
    member.since = this.#epoch
    member.joinOrder = this.#joined = (this.#joined + 1) % 0x40000000
    let userSet = this.#byUser.get(connection.userId)
    if (userSet === undefined) {
      userSet = new Set()
      this.#byUser.set(connection.userId, userSet)
    }
    userSet.add(member)
    this.#members.set(connection.id, member)
    return member
  }

  /** Forgets a connection. Safe to call more than once. */
  remove (id: string): boolean {
    const member = this.#members.get(id)
    if (member === undefined) return false
    this.#members.delete(id)
    const userSet = this.#byUser.get(member.connection.userId)
    if (userSet !== undefined) {
      userSet.delete(member)
      if (userSet.size === 0) this.#byUser.delete(member.connection.userId)
    }
    return true
  }

  get (id: string): Member | undefined {
    return this.#members.get(id)
  }

  get size (): number {
    return this.#members.size
  }

  get userCount (): number {
    return this.#byUser.size
  }

  /** Open connections of one user. */
  connectionsOf (userId: string): number {
    return this.#byUser.get(userId)?.size ?? 0
  }

  /** User id → open connections (a null-prototype object: a user may be called "__proto__"). */
  users (): Record<string, number> {
    const users: Record<string, number> = Object.create(null)
    for (const [userId, set] of this.#byUser) users[userId] = set.size
    return users
  }

  members (): IterableIterator<Member> {
    return this.#members.values()
  }

  /**
   * Delivers a camera event or alert to every connection that wants it.
   * An alert with `user_id` goes to that user's connections only. Serialized
   * once; delivery runs in slices, in publish order for every connection.
   * A connection gets exactly the messages delivered after it was added.
   * @returns the number of connections it is offered to (before subscription filters).
   */
  deliver (message: SequencedMessage): number {
    const userId = message.type === 'alert' ? message.user_id : undefined
    const targets = userId === undefined ? this.#members.size : this.connectionsOf(userId)
    if (targets === 0) return 0
    this.#fanout.enqueue({ frame: new OutboundFrame(frameOf(message)), message, type: message.type, userId, epoch: ++this.#epoch })
    return targets
  }

  /** Sends a message to every connection, serialized once. */
  broadcast (message: ServerMessage): number {
    if (this.#members.size === 0) return 0
    return this.broadcastFrame(encode(message), message.type === 'statistics_update', message.type)
  }

  /**
   * Sends an already encoded frame to every connection, or, with
   * `forScope`, to those whose scope key it accepts (one statistics view).
   * A `snapshot` (a statistics_update) may be replaced by a newer one for a
   * connection that is not keeping up.
   */
  broadcastFrame (frame: Buffer, snapshot = false, type = 'statistics_update', forScope?: (key: string) => boolean): number {
    if (this.#members.size === 0) return 0
    this.#fanout.enqueue({ frame: new OutboundFrame(frame, snapshot), message: null, type, userId: undefined, epoch: ++this.#epoch, forScope })
    return this.#members.size
  }

  /**
   * Resolves once every message delivered or broadcast so far has been
   * handed to its connections. Fan-out is asynchronous (in slices): await
   * this before closing connections that must get a last broadcast first.
   */
  async fanoutIdle (): Promise<void> {
    await this.#fanout.idle()
  }

  /** Messages waiting to be fanned out or in progress. */
  get fanoutBacklog (): number {
    return this.#fanout.backlog
  }

  /** Closes every connection with a close frame (shutdown). */
  closeAll (code: number, reason: string): void {
    for (const member of [...this.#members.values()]) member.connection.close(code, reason)
  }
}

const EMPTY: ReadonlySet<Member> = new Set()
