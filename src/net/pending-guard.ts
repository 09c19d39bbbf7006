import type { Server } from 'node:net'
import type { Socket } from 'node:net'

export interface PendingGuardLogger {
  warn (obj: object, msg: string): void
}

/** How often at most the guard logs that it refuses connections: a flood must not flood the log. */
const LOG_EVERY_MS = 10_000

const kAddress = Symbol('pendingGuard.address')
const kOnClose = Symbol('pendingGuard.onClose')
type Tracked = Socket & { [kAddress]?: string, [kOnClose]?: () => void }

/**
 * Caps the connections one source address holds that are not WebSockets:
 * handshakes in progress, requests whose headers or body are still coming,
 * idle keep-alive connections. Without it one address could open thousands
 * of sockets that send `GET / HTTP/1.1` and nothing more, and fill every
 * file descriptor the server has. A WebSocket stops counting once its
 * upgrade completed (`release`); its number is capped by MAX_SOCKETS.
 *
 * A connection over the cap is answered 429 and closed at once, before any
 * of its bytes are parsed, so a flood costs the server next to nothing.
 */
export class PendingGuard {
  readonly #max: number
  readonly #counts = new Map<string, number>()
  readonly #refusal: Buffer
  readonly #log: PendingGuardLogger | null
  #refused = 0
  #refusedSinceLog = 0
  #loggedAt = Number.NEGATIVE_INFINITY

  constructor (max: number, log: PendingGuardLogger | null = null) {
    this.#max = max
    this.#log = log
    const body = JSON.stringify({
      statusCode: 429,
      code: 'PUSH_TOO_MANY_PENDING',
      error: 'Too Many Requests',
      message: `too many unfinished connections from your address: at most ${max} at a time that are not WebSockets (handshakes, requests, idle keep-alive); finish or close them and retry (the operator sets the limit in MAX_PENDING_PER_IP)`
    })
    this.#refusal = Buffer.from(
      'HTTP/1.1 429 Too Many Requests\r\n' +
      'Content-Type: application/json; charset=utf-8\r\n' +
      'Retry-After: 1\r\n' +
      'Connection: close\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  }

  /** Starts counting the server's connections; runs before the HTTP parser sees them. */
  attach (server: Server): void {
    server.prependListener('connection', (socket: Socket) => { this.#admit(socket as Tracked) })
  }

  /** Connections refused so far. */
  get refused (): number {
    return this.#refused
  }

  /** Connections `address` holds that count against the cap. */
  pending (address: string): number {
    return this.#counts.get(address) ?? 0
  }

  /** The connection became a WebSocket: it no longer counts against its address. */
  release (socket: Socket | undefined): void {
    const tracked = socket as Tracked | undefined
    const address = tracked?.[kAddress]
    if (tracked === undefined || address === undefined) return
    tracked[kAddress] = undefined
    const onClose = tracked[kOnClose]
    if (onClose !== undefined) tracked.off('close', onClose)
    tracked[kOnClose] = undefined
    const count = (this.#counts.get(address) ?? 1) - 1
    if (count > 0) this.#counts.set(address, count)
    else this.#counts.delete(address)
  }

  #admit (socket: Tracked): void {
    const address = socket.remoteAddress
    // Already gone (reset before it was accepted): nothing to count.
    if (address === undefined) return
    const count = this.#counts.get(address) ?? 0
    if (count >= this.#max) {
      this.#refuse(socket, address)
      return
    }
    this.#counts.set(address, count + 1)
    socket[kAddress] = address
    const onClose = (): void => { this.release(socket) }
    socket[kOnClose] = onClose
    socket.once('close', onClose)
  }

  #refuse (socket: Socket, address: string): void {
    this.#refused++
    this.#refusedSinceLog++
    // The answer goes to the kernel in this call; the descriptor is freed at once.
    socket.end(this.#refusal)
    socket.destroy()
    const now = Date.now()
    if (this.#log !== null && now - this.#loggedAt >= LOG_EVERY_MS) {
      this.#log.warn({ address, refused: this.#refusedSinceLog, limit: this.#max }, 'refusing connections: an address holds MAX_PENDING_PER_IP unfinished connections')
      this.#loggedAt = now
      this.#refusedSinceLog = 0
    }
  }
}
