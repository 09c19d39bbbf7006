import { CameraScope } from '../protocol/camera-scope.js'
import type { LiveGate } from './live-gate.js'
import type { OutboundFrame } from './outbound-frame.js'
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
  /** The cameras this connection's token lets it see; set when it is admitted. */
  scope: CameraScope = CameraScope.ALL
  /** Whether its token may see presence (the `admin` or `presence` role); set when it is admitted. */
  seesPresence = false
  readonly openedAt = Date.now()
  /** The hub's epoch when it joined: it gets the messages enqueued after that. */
  since = 0
  /** Cleared by each heartbeat sweep, set again by the peer's pong. */
  alive = true
  /** The order it joined the hub in (wraps around); the heartbeat pings each member in the turn this picks. */
  joinOrder = 0
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
