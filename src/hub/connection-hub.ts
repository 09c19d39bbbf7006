import { encode } from '../protocol/codec.js'
import type { SequencedMessage, ServerMessage } from '../protocol/messages.js'
import type { LiveGate } from './live-gate.js'
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
  /** Cleared by each heartbeat sweep, set again by the peer's pong. */
  alive = true
  /** While set, live messages wait in the gate instead of being sent (resume). */
  gate: LiveGate | null = null

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
}

/**
 * Owns every open connection: per-user tracking and limits, subscriptions and
 * fan-out. A message is serialized once per fan-out, never once per client.
 */
export class ConnectionHub {
  readonly maxConnectionsPerUser: number
  readonly #members = new Map<string, Member>()
  readonly #byUser = new Map<string, Set<Member>>()

  constructor (options: HubOptions) {
    this.maxConnectionsPerUser = options.maxConnectionsPerUser
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

  /** User id → open connections. */
  users (): Record<string, number> {
    const users: Record<string, number> = {}
    for (const [userId, set] of this.#byUser) users[userId] = set.size
    return users
  }

  members (): IterableIterator<Member> {
    return this.#members.values()
  }

  /**
   * Delivers a camera event or alert to every connection that wants it.
   * An alert with `user_id` goes to that user's connections only.
   * @returns the number of connections it was sent to.
   */
  deliver (message: SequencedMessage): number {
    let frame: Buffer | undefined
    let sent = 0
    const targets = message.type === 'alert' && message.user_id !== undefined
      ? this.#byUser.get(message.user_id) ?? EMPTY
      : this.#members.values()
    for (const member of targets) {
      if (!member.subscription.wants(message)) continue
      if (member.gate !== null && member.gate.hold(message)) continue
      frame ??= encode(message)
      member.connection.send(frame)
      sent++
    }
    return sent
  }

  /** Sends a message to every connection, serialized once. */
  broadcast (message: ServerMessage): number {
    if (this.#members.size === 0) return 0
    return this.broadcastFrame(encode(message))
  }

  /** Sends an already encoded frame to every connection. */
  broadcastFrame (frame: Buffer): number {
    for (const member of this.#members.values()) {
      if (member.gate !== null && member.gate.hold(frame)) continue
      member.connection.send(frame)
    }
    return this.#members.size
  }

  /** Closes every connection with a close frame (shutdown). */
  closeAll (code: number, reason: string): void {
    for (const member of [...this.#members.values()]) member.connection.close(code, reason)
  }
}

const EMPTY: ReadonlySet<Member> = new Set()
