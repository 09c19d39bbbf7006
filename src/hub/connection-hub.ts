import { encode } from '../protocol/codec.js'
import { frameOf } from '../protocol/frame-cache.js'
import type { SequencedMessage, ServerMessage } from '../protocol/messages.js'
import { Fanout, type FanoutReport } from './fanout.js'
import type { LiveGate } from './live-gate.js'
import { OutboundFrame } from './outbound-frame.js'
import { DEFAULT_LIMITS, newCounters, type OutboundCounters, type OutboundLimits } from './outbound-queue.js'
import { Subscription } from './subscription.js'

/**
 * What the hub needs of a connection. The hub knows nothing of Fastify or ws,
 * so it can be tested with plain objects and driven by any transport.
 */
export interface Connection {
  readonly id: string
  readonly userId: string
  /** Sends one encoded JSON text frame. */
  send (frame: Buffer): void
  /**
   * Sends a frame shared by many connections (optional: without it the hub
   * calls `send` with the payload). A transport caches its wire form on the
   * frame, so a fan-out frames a message once, not once per connection.
   */
  sendShared? (frame: OutboundFrame): void
  /** Starts a closing handshake with a close frame. */
  close (code: number, reason: string): void
  /** Destroys the connection without a handshake (dead peers). */
  terminate (): void
  /** Sends a protocol-level ping. */
  ping (): void
  /** Bytes queued for this connection and not yet written to the network. */
  readonly bufferedAmount: number
}

/** A connection as the hub holds it: the transport, its subscription and liveness. */
export class Member {
  readonly connection: Connection
  readonly subscription = new Subscription()
  readonly openedAt = Date.now()
  /** The hub's epoch when it joined: it gets the messages enqueued after that. */
  since = 0
  /** Cleared by each heartbeat sweep, set again by the peer's pong. */
  alive = true
  /** While set, live messages wait in the gate instead of being sent (resume). */
  gate: LiveGate | null = null
  /**
   * The newest `seq` a resume replay covered: a live message with a `seq` at
   * or below it was replayed already (or not meant for this connection).
   */
  resumedThrough = 0

  constructor (connection: Connection) {
    this.connection = connection
  }
}

export type AddResult =
  | { ok: true, member: Member }
  | { ok: false, reason: 'connection_limit', limit: number }

export interface HubOptions {
  /** The most connections one user may hold open at once. */
  maxConnectionsPerUser: number
  /** Connections served per slice of a fan-out before yielding to the event loop (default 500). */
  fanoutSliceSize?: number
  /** Per-connection outbound limits (SLOW_CONSUMER_SOFT_BYTES / _HARD_BYTES). */
  outboundLimits?: OutboundLimits
  /** Called when a message has been handed to every connection it was for (metrics). */
  onFanout?: (report: FanoutReport) => void
}

/**
 * Owns every open connection: per-user tracking and limits, subscriptions and
 * fan-out. A message is serialized once per fan-out, never once per client,
 * and fanned out in slices that yield to the event loop (see fanout.ts).
 */
export class ConnectionHub {
  readonly maxConnectionsPerUser: number
  /** Coalesced writes, superseded snapshots and slow-consumer closes, for status and metrics. */
  readonly counters: OutboundCounters = newCounters()
  /** What transports give each connection's outbound queue. */
  readonly outbound: { limits: OutboundLimits, counters: OutboundCounters }
  readonly #members = new Map<string, Member>()
  readonly #byUser = new Map<string, Set<Member>>()
  readonly #fanout: Fanout
  /** Incremented per enqueued message; a member joining records it. */
  #epoch = 0

  constructor (options: HubOptions) {
    this.maxConnectionsPerUser = options.maxConnectionsPerUser
    this.outbound = { limits: options.outboundLimits ?? DEFAULT_LIMITS, counters: this.counters }
    this.#fanout = new Fanout({
      all: () => this.#members.values(),
      ofUser: (userId) => (this.#byUser.get(userId) ?? EMPTY).values()
    }, options.fanoutSliceSize ?? 500)
    this.#fanout.onError = (_err, member) => { member.connection.terminate() }
    if (options.onFanout !== undefined) this.#fanout.onDone = options.onFanout
  }

  /**
   * Admits a connection if its user has a free slot. The check and the
   * registration happen in one synchronous step, so racing handshakes of one
   * user can never exceed the limit.
   */
  add (connection: Connection): AddResult {
    let userSet = this.#byUser.get(connection.userId)
    if (userSet !== undefined && userSet.size >= this.maxConnectionsPerUser) {
      return { ok: false, reason: 'connection_limit', limit: this.maxConnectionsPerUser }
    }
    if (this.#members.has(connection.id)) throw new Error(`connection ${connection.id} is already registered`)
    const member = new Member(connection)
    member.since = this.#epoch
    if (userSet === undefined) {
      userSet = new Set()
      this.#byUser.set(connection.userId, userSet)
    }
    userSet.add(member)
    this.#members.set(connection.id, member)
    return { ok: true, member }
  }

  /** Frees a connection's slot. Safe to call more than once. */
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
   * Sends an already encoded frame to every connection. A `snapshot` (a
   * statistics_update) may be replaced by a newer one for a connection
   * that is not keeping up.
   */
  broadcastFrame (frame: Buffer, snapshot = false, type = 'statistics_update'): number {
    if (this.#members.size === 0) return 0
    this.#fanout.enqueue({ frame: new OutboundFrame(frame, snapshot), message: null, type, userId: undefined, epoch: ++this.#epoch })
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
