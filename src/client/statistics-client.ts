import type { SubscribableType } from '../protocol/messages.js'
import { Emitter } from './emitter.js'
import { resolveOptions, type ConnectOptions, type Timings } from './options.js'
import { Poller } from './polling.js'
import { closeAction, Reconnector } from './reconnect.js'
import { ClientSocket, CLOSE } from './socket.js'
import { Subscriptions } from './subscriptions.js'
import { TokenSource } from './token.js'
import { describeError, type AnyMessage, type ClientEvents, type ResyncInfo, type Status, type WebSocketConstructor } from './types.js'

/**
 * The browser (and Node) client of the statistics push service: one live
 * WebSocket with reconnects that resume where they left off, keep-alive, a
 * polling fallback, re-subscription and gap detection. No framework and no
 * runtime dependencies, so it can be served to pages as one small ES module.
 *
 * This class only composes the parts and keeps the status: the socket and
 * its keep-alive (socket.ts), when to reconnect (reconnect.ts), polling
 * (polling.ts), subscriptions and resume (subscriptions.ts), the token
 * (token.ts).
 */

export type { AnyMessage, ClientEvents, ConnectionStatus, ResyncInfo, Status, StatusChange, WebSocketConstructor, WebSocketLike } from './types.js'
export { DEFAULT_TIMINGS, type ConnectOptions, type Timings } from './options.js'
export { endpoints, STATISTICS_PATH, WS_PATH } from './endpoints.js'
export { SUBSCRIBABLE_EVENT_TYPES } from './subscriptions.js'

export class StatisticsClient {
  readonly #events = new Emitter<ClientEvents>()
  readonly #timings: Timings
  readonly #wsUrl: string
  readonly #WebSocket: WebSocketConstructor | null
  readonly #tokens: TokenSource
  readonly #subscriptions: Subscriptions
  readonly #reconnect: Reconnector
  readonly #poller: Poller

  #status: Status = 'connecting'
  #reason: string | null = null
  #closed = false
  #lastUpdate: Date | null = null
  #socket: ClientSocket | null = null

  constructor (options: ConnectOptions) {
    const resolved = resolveOptions(options)
    this.#timings = resolved.timings
    this.#wsUrl = resolved.urls.ws
    this.#WebSocket = resolved.WebSocket
    this.#tokens = new TokenSource(resolved.token, resolved.getToken)
    this.#subscriptions = new Subscriptions(resolved.resume)
    this.#reconnect = new Reconnector(resolved.timings, resolved.random, () => { this.#openSocket() })
    this.#poller = new Poller(resolved.urls.poll, resolved.fetch, resolved.timings, {
      token: () => this.#tokens.current,
      onStart: () => { this.#setStatus('polling', null) },
      onStatistics: message => {
        this.#lastUpdate = new Date()
        this.#setStatus('polling', null)
        this.#events.emit('message', message)
        this.#events.emit('statistics_update', message)
      },
      onRefused: async reason => { await this.#onRefused(reason, 'poll') },
      onFailure: reason => { this.#setStatus('offline', reason) },
      onUnavailable: reason => {
        this.#halt()
        this.#setStatus('offline', reason)
      }
    })
    // Start after the caller had a chance to attach handlers.
    queueMicrotask(() => { void this.#start() })
  }

  /** connecting | live | polling | offline | unauthorized */
  get status (): Status {
    return this.#status
  }

  /** Why the status is what it is, or null. */
  get reason (): string | null {
    return this.#reason
  }

  /** When data last arrived (any message, or a successful poll). */
  get lastUpdate (): Date | null {
    return this.#lastUpdate
  }

  /** When the next socket attempt is due (ms since the epoch), or null when none is scheduled. */
  get nextAttemptAt (): number | null {
    return this.#reconnect.nextAttemptAt
  }

  /** The `seq` of the last camera event / alert received: reconnects resume after it. */
  get lastSeq (): number | null {
    return this.#subscriptions.lastSeq
  }

  /**
   * Listens to a message type (`statistics_update`, `camera_event`, `alert`...)
   * or a client event (`status`, `gap`, `resync`, `message`).
   * @returns a function that removes the handler.
   */
  on<K extends keyof ClientEvents & string> (type: K, handler: (payload: ClientEvents[K]) => void): () => void {
    return this.#events.on(type, handler)
  }

  /**
   * Adds event types, cameras to the camera filter, and camera event types
   * (`event_type`, e.g. 'motion') to the type filter (`null`: every camera,
   * every type again). Kept and re-sent after every reconnect.
   */
  subscribe (eventTypes: readonly SubscribableType[], cameraIds?: readonly string[] | null, cameraEventTypes?: readonly string[] | null): void {
    const message = this.#subscriptions.subscribe(eventTypes, cameraIds, cameraEventTypes)
    this.#socket?.send(message)
  }

  /** Removes event types, cameras from the camera filter, and camera event types from the type filter. */
  unsubscribe (eventTypes: readonly SubscribableType[], cameraIds?: readonly string[], cameraEventTypes?: readonly string[]): void {
    const message = this.#subscriptions.unsubscribe(eventTypes, cameraIds, cameraEventTypes)
    this.#socket?.send(message)
  }

  /** Sends a message on the live connection (`get_online_users`...); dropped while there is none. */
  send (message: { type: string, [field: string]: unknown }): void {
    this.#socket?.send(message)
  }

  /** Closes for good: no reconnects, no polling; status `offline`. */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.#halt()
    this.#setStatus('offline', 'closed by the page')
  }

  async #start (): Promise<void> {
    if (this.#tokens.current === undefined) {
      if (!await this.#refreshToken()) return
    }
    if (this.#closed) return
    if (this.#WebSocket === null) {
      this.#startPolling()
      return
    }
    this.#openSocket()
  }

  #openSocket (): void {
    this.#reconnect.cancel()
    if (this.#closed || this.#WebSocket === null) return
    if (!this.#poller.active) this.#setStatus('connecting', this.#reason)
    const url = `${this.#wsUrl}?token=${encodeURIComponent(this.#tokens.current ?? '')}${this.#subscriptions.resumeQuery()}`
    let socket: ClientSocket
    try {
      socket = new ClientSocket(this.#WebSocket, url, this.#timings, {
        onMessage: message => { this.#onMessage(socket, message) },
        onEnd: (code, reason, wasLive) => {
          if (socket !== this.#socket) return
          this.#forgetSocket()
          this.#afterSocketEnd(code, reason, wasLive)
        }
      })
    } catch (err) {
      this.#afterSocketEnd(CLOSE.ABNORMAL, `could not open a WebSocket: ${describeError(err)}`, false)
      return
    }
    this.#socket = socket
  }

  #onMessage (socket: ClientSocket, message: AnyMessage): void {
    if (socket !== this.#socket) return
    this.#lastUpdate = new Date()
    let resync: ResyncInfo | null = null
    if (message.type === 'connection_status') {
      switch (message.status) {
        case 'connected':
          this.#subscriptions.connected(message.stream)
          this.#onLive(socket)
          break
        case 'token_expiring':
          void this.#renewToken(socket)
          break
        case 'server_restart':
          this.#reconnect.restartNotice(message.reconnect_in_ms)
          break
        case 'resync_required':
          resync = this.#subscriptions.resyncRequired(message.message)
          break
      }
    }
    if ((message.type === 'camera_event' || message.type === 'alert') && typeof message.seq === 'number') {
      const gap = this.#subscriptions.observe(message.seq)
      if (gap !== null) this.#events.emit('gap', gap)
      if (!this.#subscriptions.wants(message)) return
    }
    this.#events.emit('message', message)
    this.#events.emit(message.type, message as never)
    if (resync !== null) this.#events.emit('resync', resync)
  }

  #onLive (socket: ClientSocket): void {
    socket.markLive()
    this.#reconnect.connected()
    this.#tokens.accepted()
    this.#poller.stop()
    this.#setStatus('live', null)
    for (const message of this.#subscriptions.resendMessages()) socket.send(message)
    // Without last_seq the service holds live messages for a moment
    // (RESUME_GRACE_MS) in case a `resume` message follows; any first
    // message ends that wait, and this client never resumes that way.
    socket.keepAlive(!this.#subscriptions.resuming)
  }

  /** Decides what follows the end of a socket: a refresh, a stop, or a retry. */
  #afterSocketEnd (code: number, reason: string, wasLive: boolean): void {
    if (this.#closed) return
    switch (closeAction(code)) {
      case 'refresh-token':
        void this.#onRefused(reason, 'socket')
        return
      case 'stop':
        this.#halt()
        this.#setStatus('offline', reason)
        return
    }
    this.#reconnect.retry(code, wasLive)
    if (this.#reconnect.failing) this.#startPolling()
    else if (!this.#poller.active) this.#setStatus('connecting', reason)
  }

  #startPolling (): void {
    if (!this.#closed) this.#poller.start()
  }

  /** The current socket is gone; it did not stay up long enough to reset the backoff. */
  #forgetSocket (): void {
    this.#socket = null
    this.#reconnect.disconnected()
  }

  /** Stops everything (terminal states). */
  #halt (): void {
    this.#reconnect.cancel()
    this.#poller.stop()
    const socket = this.#socket
    this.#forgetSocket()
    socket?.abandon()
  }

  /** Gets a new token from getToken; false (and status unauthorized) when there is none. */
  async #refreshToken (reason = 'no token'): Promise<boolean> {
    if (!this.#tokens.renewable) {
      this.#halt()
      this.#setStatus('unauthorized', reason)
      return false
    }
    const failure = await this.#tokens.refresh()
    if (failure === null) return true
    this.#halt()
    this.#setStatus('unauthorized', `${reason}; getToken failed: ${failure}`)
    return false
  }

  /** A refused token: one fresh token from getToken, else `unauthorized` for good. */
  async #onRefused (reason: string, source: 'socket' | 'poll'): Promise<void> {
    if (!this.#tokens.mayReplaceRefused()) {
      this.#halt()
      this.#setStatus('unauthorized', reason)
      return
    }
    if (!this.#poller.active) this.#setStatus('connecting', reason)
    if (!await this.#refreshToken(reason) || this.#closed) return
    if (source === 'socket') this.#openSocket()
  }

  /** The service warned that the token expires soon: send a fresh one on this connection. */
  async #renewToken (socket: ClientSocket): Promise<void> {
    const token = await this.#tokens.renew()
    if (token !== null && socket === this.#socket) socket.sendIfOpen({ type: 'auth', token })
  }

  #setStatus (status: Status, reason: string | null): void {
    if (status === this.#status && reason === this.#reason) return
    const previous = this.#status
    this.#status = status
    this.#reason = reason
    this.#events.emit('status', { status, previous, reason })
  }
}

/**
 * Connects to the statistics service. Returns at once (status `connecting`);
 * attach handlers with `on()` in the same tick to see every event.
 *
 * @example
 *   const client = connect({ url: 'https://stats.example.com', token })
 *   client.on('statistics_update', m => render(m.data))
 */
export function connect (options: ConnectOptions): StatisticsClient {
  return new StatisticsClient(options)
}
