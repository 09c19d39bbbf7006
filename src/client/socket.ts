import type { Timings } from './options.js'
import type { AnyMessage, Timer, WebSocketConstructor, WebSocketLike } from './types.js'

/**
 * One WebSocket attempt and its keep-alive: the connect timeout, the ping
 * interval and the pong timeout. It parses what arrives and reports how the
 * socket ended; what to do next (retry, poll, give up) is the owner's call.
 */

/** The close codes the client tells apart. */
export const CLOSE = {
  GOING_AWAY: 1001,
  ABNORMAL: 1006,
  POLICY_VIOLATION: 1008,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  UNAUTHORIZED: 4401,
  FORBIDDEN: 4403
} as const

const OPEN = 1

export type SocketTimings = Pick<Timings, 'connectTimeoutMs' | 'pingIntervalMs' | 'pongTimeoutMs'>

export interface SocketHandlers {
  /** A message that parsed as JSON with a string `type`; anything else is ignored. */
  onMessage: (message: AnyMessage) => void
  /**
   * The socket ended: closed by either side, not live within the connect
   * timeout, or silent past the pong timeout. Nothing follows it.
   */
  onEnd: (code: number, reason: string, wasLive: boolean) => void
}

/** Words for a close without a reason (browsers report a lost or refused connection as 1006). */
export function describeClose (code: number): string {
  return code === CLOSE.ABNORMAL ? 'the connection was lost or could not be opened' : `the connection closed with code ${code}`
}

export class ClientSocket {
  readonly #ws: WebSocketLike
  readonly #timings: SocketTimings
  readonly #handlers: SocketHandlers
  readonly #listeners: Array<[string, (event: any) => void]> = []
  #live = false
  #ended = false
  #connectTimer: Timer | null = null
  #pingTimer: ReturnType<typeof setInterval> | null = null
  #pongTimer: Timer | null = null

  /** Opens the socket; throws what the WebSocket constructor throws (a malformed URL, say). */
  constructor (WebSocket: WebSocketConstructor, url: string, timings: SocketTimings, handlers: SocketHandlers) {
    const ws = new WebSocket(url)
    this.#ws = ws
    this.#timings = timings
    this.#handlers = handlers
    // An error is always followed by a close; the listener stays attached
    // so an abandoned socket's late error is never unhandled.
    ws.addEventListener('error', () => {})
    this.#listen('message', (event: { data: unknown }) => { this.#onMessage(event.data) })
    this.#listen('close', (event: { code: number, reason: string }) => { this.#onClose(event.code, event.reason) })
    this.#connectTimer = setTimeout(() => {
      this.#giveUp(`not connected within ${timings.connectTimeoutMs} ms`, false)
    }, timings.connectTimeoutMs)
  }

  /** True from `markLive()` until the socket ends. */
  get live (): boolean {
    return this.#live
  }

  /** The service said `connected`: the connect timeout is over and messages may be sent. */
  markLive (): void {
    if (this.#ended) return
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer)
    this.#connectTimer = null
    this.#live = true
  }

  /**
   * Pings every `pingIntervalMs`, and at once when `pingNow`. A pong that
   * does not come within `pongTimeoutMs` ends the socket as dead.
   */
  keepAlive (pingNow: boolean): void {
    if (this.#ended) return
    if (this.#pingTimer !== null) clearInterval(this.#pingTimer)
    if (pingNow) this.#ping()
    this.#pingTimer = setInterval(() => { this.#ping() }, this.#timings.pingIntervalMs)
  }

  /** Sends a message once live; before that (and after the end) it is dropped. */
  send (message: Record<string, unknown>): void {
    if (this.#live) this.sendIfOpen(message)
  }

  /** Sends a message whenever the socket is open, live or not. */
  sendIfOpen (message: Record<string, unknown>): void {
    if (!this.#ended && this.#ws.readyState === OPEN) this.#ws.send(JSON.stringify(message))
  }

  /** Ends the socket without waiting for its close handshake; `onEnd` is not called. */
  abandon (): void {
    if (this.#ended) return
    this.#stop()
    try {
      const terminate = (this.#ws as { terminate?: () => void }).terminate
      if (typeof terminate === 'function') terminate.call(this.#ws)
      else this.#ws.close(1000, 'client gave up on this connection')
    } catch {}
  }

  #listen (type: string, listener: (event: any) => void): void {
    this.#ws.addEventListener(type, listener)
    this.#listeners.push([type, listener])
  }

  #onMessage (data: unknown): void {
    if (this.#ended) return
    let message: AnyMessage
    try {
      const parsed: unknown = JSON.parse(typeof data === 'string' ? data : String(data))
      if (parsed === null || typeof parsed !== 'object' || typeof (parsed as AnyMessage).type !== 'string') return
      message = parsed as AnyMessage
    } catch {
      return
    }
    if (message.type === 'pong' && this.#pongTimer !== null) {
      clearTimeout(this.#pongTimer)
      this.#pongTimer = null
    }
    this.#handlers.onMessage(message)
  }

  #onClose (code: number, reason: string): void {
    if (this.#ended) return
    const wasLive = this.#live
    this.#stop()
    this.#handlers.onEnd(code, reason !== '' ? reason : describeClose(code), wasLive)
  }

  #ping (): void {
    if (this.#pongTimer !== null) return
    this.send({ type: 'ping', timestamp: new Date().toISOString() })
    this.#pongTimer = setTimeout(() => {
      this.#pongTimer = null
      this.#giveUp(`no pong within ${this.#timings.pongTimeoutMs} ms: the connection is dead`, true)
    }, this.#timings.pongTimeoutMs)
  }

  #giveUp (reason: string, wasLive: boolean): void {
    this.abandon()
    this.#handlers.onEnd(CLOSE.ABNORMAL, reason, wasLive)
  }

  /** Detaches from the WebSocket and stops every timer. */
  #stop (): void {
    this.#ended = true
    this.#live = false
    for (const [type, listener] of this.#listeners) this.#ws.removeEventListener(type, listener)
    this.#listeners.length = 0
    for (const timer of [this.#connectTimer, this.#pongTimer]) if (timer !== null) clearTimeout(timer)
    if (this.#pingTimer !== null) clearInterval(this.#pingTimer)
    this.#connectTimer = this.#pongTimer = this.#pingTimer = null
  }
}
