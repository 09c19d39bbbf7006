import type {
  AlertMessage, CameraEventMessage, ConnectionStatusMessage, ErrorMessage, PongMessage,
  StatisticsUpdateMessage, SubscribableType, SubscribedMessage
} from '../protocol/messages.js'
import { Backoff } from './backoff.js'
import { Emitter } from './emitter.js'
import { SeqTracker, type SeqGap } from './seq-tracker.js'

/**
 * The browser (and Node) client of the statistics push service: one live
 * WebSocket with reconnects that resume where they left off, keep-alive, a
 * polling fallback, re-subscription and gap detection. No framework and no
 * runtime dependencies, so it can be served to pages as one small ES module.
 */

export type Status = 'connecting' | 'live' | 'polling' | 'offline' | 'unauthorized'

export interface StatusChange {
  status: Status
  previous: Status
  /** Why, in words for a person (close reason, HTTP error...), or null. */
  reason: string | null
}

/** A `connection_status` message; `token_expiring` ones carry `expires_at`. */
export type ConnectionStatus = ConnectionStatusMessage & { expires_at?: string | number }

/** The service could not replay what this page missed: what it shows must be reloaded. */
export interface ResyncInfo {
  /** The `seq` the client asked to resume after. */
  lastSeq: number | null
  /** The service's words. */
  reason: string
}

/** Any message from the service, as received. */
export interface AnyMessage {
  type: string
  [field: string]: unknown
}

/** What `on()` can listen to: the service's message types plus the client's own events. */
export interface ClientEvents {
  [type: string]: unknown
  /** Every status change. */
  status: StatusChange
  /** Pushed over the socket, or fetched from GET /api/statistics while polling. */
  statistics_update: StatisticsUpdateMessage
  camera_event: CameraEventMessage
  alert: AlertMessage
  connection_status: ConnectionStatus
  subscribed: SubscribedMessage
  pong: PongMessage
  /** An error message from the service about something this client sent. */
  error: ErrorMessage
  /** Camera events or alerts this page never received (missing `seq` numbers). */
  gap: SeqGap
  /**
   * Missed camera events or alerts could not be replayed after a reconnect
   * (too many, or the service restarted): the feed is incomplete. A fresh
   * `statistics_update` follows at once.
   */
  resync: ResyncInfo
  /** Every message, before its typed event. */
  message: AnyMessage
}

/** What the client needs of a WebSocket: the browser's, or the `ws` package's in Node. */
export interface WebSocketLike {
  readonly readyState: number
  send (data: string): void
  close (code?: number, reason?: string): void
  addEventListener (type: string, listener: (event: any) => void): void
  removeEventListener (type: string, listener: (event: any) => void): void
}
export type WebSocketConstructor = new (url: string) => WebSocketLike

/** Every delay the client uses, in milliseconds; tests shrink them. */
export interface Timings {
  /** Ceiling of the first reconnect delay (full jitter below it). */
  backoffBaseMs: number
  /** Largest reconnect delay. */
  backoffMaxMs: number
  /** A connection that stays up this long resets the backoff. */
  stableAfterMs: number
  /** After 1001/1012/1013 (restart, try later) reconnect within a random delay up to this. */
  restartJitterMs: number
  /** Keep-alive ping interval. */
  pingIntervalMs: number
  /** No pong within this long after a ping: the connection is dead. */
  pongTimeoutMs: number
  /** An attempt that is not live within this long has failed. */
  connectTimeoutMs: number
  /** GET /api/statistics interval while the socket is down. */
  pollIntervalMs: number
  /** A poll that takes longer than this has failed. */
  pollTimeoutMs: number
  /** Failed socket attempts in a row before falling back to polling. */
  failuresBeforePolling: number
}

export const DEFAULT_TIMINGS: Readonly<Timings> = Object.freeze({
  backoffBaseMs: 1000,
  backoffMaxMs: 30_000,
  stableAfterMs: 10_000,
  restartJitterMs: 5000,
  pingIntervalMs: 30_000,
  pongTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  pollIntervalMs: 5000,
  pollTimeoutMs: 5000,
  failuresBeforePolling: 3
})

export interface ConnectOptions extends Partial<Timings> {
  /**
   * The service's base URL (http(s) or ws(s); a path prefix is kept). In a
   * browser it defaults to the page's origin.
   */
  url?: string
  /** The JWT to connect with. */
  token?: string
  /**
   * Returns a fresh token: called once when the service refuses the token
   * (4401 / HTTP 401) and when it warns that the token is about to expire.
   * Used for the first connection too when `token` is not given.
   */
  getToken?: () => string | Promise<string>
  /** The WebSocket implementation; defaults to the global one. null: poll only. */
  WebSocket?: WebSocketConstructor | null
  /** The fetch implementation for polling; defaults to the global one. */
  fetch?: typeof globalThis.fetch
  /** A number in [0, 1) for the jitter; injectable for tests. */
  random?: () => number
  /**
   * Reconnect with `?last_seq=<lastSeq>` so the service replays what was
   * missed (default true). false: reconnects start from the live stream and
   * missed messages are reported as `gap`.
   */
  resume?: boolean
}

/** Event types a connection can subscribe to (mirrors the service's protocol). */
export const SUBSCRIBABLE_EVENT_TYPES: readonly SubscribableType[] = ['camera_event', 'alert']

export const WS_PATH = '/api/ws/statistics'
export const STATISTICS_PATH = '/api/statistics'

const OPEN = 1
const CODE = {
  GOING_AWAY: 1001,
  ABNORMAL: 1006,
  POLICY_VIOLATION: 1008,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  UNAUTHORIZED: 4401,
  FORBIDDEN: 4403
} as const
/** Codes after which the service asks for a reconnect a little later (restart, try again later). */
const RESTART_CODES = new Set<number>([CODE.GOING_AWAY, CODE.SERVICE_RESTART, CODE.TRY_AGAIN_LATER])

type Timer = ReturnType<typeof setTimeout>

/** A `reconnect_in_ms` beyond this is taken as this: a page should not stay away longer than 10 minutes. */
const MAX_RESTART_DELAY_MS = 600_000

/** The WebSocket and polling URLs for a base URL. */
export function endpoints (base: string | undefined): { ws: string, poll: string } {
  const location = (globalThis as { location?: { href: string } }).location
  if (base === undefined && location === undefined) {
    throw new TypeError('connect(): pass options.url, the base URL of the statistics service (e.g. http://localhost:8000)')
  }
  const url = new URL(base ?? '/', location?.href)
  const secure = url.protocol === 'https:' || url.protocol === 'wss:'
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new TypeError(`connect(): url must be http(s) or ws(s), got ${url.protocol}`)
  }
  let prefix = url.pathname.replace(/\/+$/, '')
  if (prefix.endsWith(WS_PATH)) prefix = prefix.slice(0, -WS_PATH.length)
  const host = url.host
  return {
    ws: `${secure ? 'wss' : 'ws'}://${host}${prefix}${WS_PATH}`,
    poll: `${secure ? 'https' : 'http'}://${host}${prefix}${STATISTICS_PATH}`
  }
}

/** Words for a close without a reason (browsers report a lost or refused connection as 1006). */
function describeClose (code: number): string {
  return code === CODE.ABNORMAL ? 'the connection was lost or could not be opened' : `the connection closed with code ${code}`
}

function describeError (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function checkTypes (method: string, eventTypes: readonly string[]): readonly SubscribableType[] {
  if (!Array.isArray(eventTypes)) throw new TypeError(`${method}(): eventTypes must be an array such as ['camera_event', 'alert']`)
  for (const type of eventTypes) {
    if (!SUBSCRIBABLE_EVENT_TYPES.includes(type as SubscribableType)) {
      throw new TypeError(`${method}(): unknown event type ${JSON.stringify(type)}; use ${SUBSCRIBABLE_EVENT_TYPES.join(' or ')}`)
    }
  }
  return eventTypes as readonly SubscribableType[]
}

export class StatisticsClient {
  readonly #events = new Emitter<ClientEvents>()
  readonly #timings: Timings
  readonly #urls: { ws: string, poll: string }
  readonly #getToken: (() => string | Promise<string>) | undefined
  readonly #WebSocket: WebSocketConstructor | null
  readonly #fetch: typeof globalThis.fetch | undefined
  readonly #random: () => number
  readonly #backoff: Backoff
  readonly #seq = new SeqTracker()
  readonly #resume: boolean

  #token: string | undefined
  #status: Status = 'connecting'
  #reason: string | null = null
  #closed = false
  #lastUpdate: Date | null = null

  #ws: WebSocketLike | null = null
  #wsListeners: Array<[string, (event: any) => void]> = []
  #live = false
  #fresh = false
  /** The service's sequence stream, from the last `connected` status. */
  #stream: string | null = null
  /** The current socket asked for a replay (`last_seq` in its URL). */
  #resuming = false
  /** Socket attempts in a row that never became live. */
  #failures = 0
  /** A refused token has been replaced once since the last success. */
  #refreshed = false
  #retryTimer: Timer | null = null
  #nextAttemptAt: number | null = null
  /** When the service, restarting, asked this client to reconnect (ms since the epoch), or null. */
  #restartAt: number | null = null
  #connectTimer: Timer | null = null
  #pingTimer: ReturnType<typeof setInterval> | null = null
  #pongTimer: Timer | null = null
  #stableTimer: Timer | null = null

  #polling = false
  #pollTimer: Timer | null = null
  #pollAbort: AbortController | null = null

  readonly #types = new Set<SubscribableType>(SUBSCRIBABLE_EVENT_TYPES)
  #cameras: Set<string> | null = null
  #subscriptionChanged = false

  constructor (options: ConnectOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('connect(): pass an options object such as { url, token }')
    if (options.token === undefined && options.getToken === undefined) {
      throw new TypeError('connect(): pass options.token (a JWT) or options.getToken (a function that returns one)')
    }
    const timings: Timings = { ...DEFAULT_TIMINGS }
    for (const key of Object.keys(DEFAULT_TIMINGS) as Array<keyof Timings>) {
      const value = options[key]
      if (value === undefined) continue
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new TypeError(`connect(): ${key} must be a number of milliseconds >= 0`)
      }
      timings[key] = value
    }
    this.#timings = timings
    this.#urls = endpoints(options.url)
    this.#token = options.token
    this.#getToken = options.getToken
    const globalWebSocket = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    this.#WebSocket = options.WebSocket === undefined ? globalWebSocket ?? null : options.WebSocket
    this.#fetch = options.fetch ?? globalThis.fetch?.bind(globalThis)
    this.#random = options.random ?? Math.random
    this.#resume = options.resume !== false
    this.#backoff = new Backoff({ baseMs: timings.backoffBaseMs, maxMs: timings.backoffMaxMs, random: this.#random })
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
    return this.#nextAttemptAt
  }

  /** The `seq` of the last camera event / alert received: reconnects resume after it. */
  get lastSeq (): number | null {
    return this.#seq.last
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
   * Adds event types, and cameras to the camera filter (`null`: every camera
   * again). Kept and re-sent after every reconnect.
   */
  subscribe (eventTypes: readonly SubscribableType[], cameraIds?: readonly string[] | null): void {
    const types = checkTypes('subscribe', eventTypes)
    const wasComplete = this.#complete()
    for (const type of types) this.#types.add(type)
    if (cameraIds === null) this.#cameras = null
    else if (cameraIds !== undefined) {
      this.#cameras ??= new Set()
      for (const id of cameraIds) this.#cameras.add(String(id))
    }
    this.#afterSubscriptionChange(wasComplete)
    this.#send({ type: 'subscribe', event_types: [...types], ...(cameraIds === undefined ? {} : { camera_ids: cameraIds }) })
  }

  /** Removes event types, and cameras from the camera filter. */
  unsubscribe (eventTypes: readonly SubscribableType[], cameraIds?: readonly string[]): void {
    const types = checkTypes('unsubscribe', eventTypes)
    const wasComplete = this.#complete()
    for (const type of types) this.#types.delete(type)
    if (cameraIds !== undefined && this.#cameras !== null) for (const id of cameraIds) this.#cameras.delete(String(id))
    this.#afterSubscriptionChange(wasComplete)
    this.#send({ type: 'unsubscribe', event_types: [...types], ...(cameraIds === undefined ? {} : { camera_ids: cameraIds }) })
  }

  /** Closes for good: no reconnects, no polling; status `offline`. */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.#halt()
    this.#setStatus('offline', 'closed by the page')
  }

  // ---- start, socket -------------------------------------------------------

  async #start (): Promise<void> {
    if (this.#token === undefined) {
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
    this.#clearRetry()
    if (this.#closed || this.#WebSocket === null) return
    if (!this.#polling) this.#setStatus('connecting', this.#reason)
    let url = `${this.#urls.ws}?token=${encodeURIComponent(this.#token ?? '')}`
    // Known only once a connection delivered a camera event or alert: the
    // service replays everything after it, then says `resumed`.
    const lastSeq = this.#seq.last
    this.#resuming = this.#resume && lastSeq !== null
    if (this.#resuming) {
      url += `&last_seq=${lastSeq}`
      // The sequence it came from: a restarted service without shared
      // history numbers from 1 again, and must answer with a resync.
      if (this.#stream !== null) url += `&stream=${encodeURIComponent(this.#stream)}`
    }
    let ws: WebSocketLike
    try {
      ws = new this.#WebSocket(url)
    } catch (err) {
      this.#afterSocketEnd(CODE.ABNORMAL, `could not open a WebSocket: ${describeError(err)}`, false)
      return
    }
    this.#ws = ws
    // An error is always followed by a close; the listener stays attached
    // so an abandoned socket's late error is never unhandled.
    ws.addEventListener('error', () => {})
    this.#listen(ws, 'message', (event: { data: unknown }) => { this.#onMessage(ws, event.data) })
    this.#listen(ws, 'close', (event: { code: number, reason: string }) => { this.#onClose(ws, event.code, event.reason) })
    this.#connectTimer = setTimeout(() => {
      this.#abandonSocket()
      this.#afterSocketEnd(CODE.ABNORMAL, `not connected within ${this.#timings.connectTimeoutMs} ms`, false)
    }, this.#timings.connectTimeoutMs)
  }

  #listen (ws: WebSocketLike, type: string, listener: (event: any) => void): void {
    ws.addEventListener(type, listener)
    this.#wsListeners.push([type, listener])
  }

  #onMessage (ws: WebSocketLike, data: unknown): void {
    if (ws !== this.#ws) return
    let message: AnyMessage
    try {
      const parsed: unknown = JSON.parse(typeof data === 'string' ? data : String(data))
      if (parsed === null || typeof parsed !== 'object' || typeof (parsed as AnyMessage).type !== 'string') return
      message = parsed as AnyMessage
    } catch {
      return
    }
    this.#lastUpdate = new Date()
    let resync: ResyncInfo | null = null
    if (message.type === 'connection_status') {
      switch (message.status) {
        case 'connected':
          if (typeof message.stream === 'string') this.#stream = message.stream
          this.#onLive()
          break
        case 'token_expiring':
          void this.#renewToken(ws)
          break
        case 'server_restart':
          this.#onRestartNotice(message.reconnect_in_ms)
          break
        case 'resync_required':
          // The next seq starts a new baseline: whatever lies between is
          // reported by `resync`, not as a (misleading) gap.
          this.#seq.resync()
          resync = { lastSeq: this.#seq.last, reason: typeof message.message === 'string' ? message.message : 'missed messages are no longer kept' }
          break
      }
    }
    if (message.type === 'pong' && this.#pongTimer !== null) {
      clearTimeout(this.#pongTimer)
      this.#pongTimer = null
    }
    if ((message.type === 'camera_event' || message.type === 'alert') && typeof message.seq === 'number') {
      this.#checkSeq(message.seq)
      // A replay and the first live messages after a reconnect come before
      // the service has the page's filter again: it is applied here too.
      if (!this.#wants(message)) return
    }
    this.#events.emit('message', message)
    this.#events.emit(message.type, message as never)
    if (resync !== null) this.#events.emit('resync', resync)
  }

  /** `server_restart`: the next attempt comes after the delay the service chose, which spreads the reconnects. */
  #onRestartNotice (delayMs: unknown): void {
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) return
    this.#restartAt = Date.now() + Math.min(delayMs, MAX_RESTART_DELAY_MS)
  }

  #onLive (): void {
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer)
    this.#connectTimer = null
    this.#live = true
    this.#fresh = true
    this.#restartAt = null
    this.#failures = 0
    this.#refreshed = false
    this.#stopPolling()
    this.#setStatus('live', null)
    this.#resendSubscription()
    // Without last_seq the service holds live messages for a moment
    // (RESUME_GRACE_MS) in case a `resume` message follows; any first
    // message ends that wait, and this client never resumes that way.
    if (!this.#resuming) this.#ping()
    this.#pingTimer = setInterval(() => { this.#ping() }, this.#timings.pingIntervalMs)
    this.#stableTimer = setTimeout(() => { this.#backoff.reset() }, this.#timings.stableAfterMs)
  }

  #ping (): void {
    if (this.#pongTimer !== null) return
    this.#send({ type: 'ping', timestamp: new Date().toISOString() })
    this.#pongTimer = setTimeout(() => {
      this.#pongTimer = null
      this.#abandonSocket()
      this.#afterSocketEnd(CODE.ABNORMAL, `no pong within ${this.#timings.pongTimeoutMs} ms: the connection is dead`, true)
    }, this.#timings.pongTimeoutMs)
  }

  #onClose (ws: WebSocketLike, code: number, reason: string): void {
    if (ws !== this.#ws) return
    const wasLive = this.#live
    this.#dropSocket()
    this.#afterSocketEnd(code, reason !== '' ? reason : describeClose(code), wasLive)
  }

  /** Decides what follows the end of a socket: a refresh, a stop, or a retry. */
  #afterSocketEnd (code: number, reason: string, wasLive: boolean): void {
    if (this.#closed) return
    if (code === CODE.UNAUTHORIZED) {
      void this.#onRefused(reason, 'socket')
      return
    }
    if (code === CODE.POLICY_VIOLATION || code === CODE.FORBIDDEN) {
      // The connection limit or a refused origin: retrying cannot help and
      // would only take the slot another tab of this user frees.
      this.#halt()
      this.#setStatus('offline', reason)
      return
    }
    if (!wasLive) this.#failures++
    const restartAt = this.#restartAt
    this.#restartAt = null
    const delay = restartAt !== null
      ? Math.max(0, restartAt - Date.now())
      : RESTART_CODES.has(code)
        ? Math.floor(this.#random() * this.#timings.restartJitterMs)
        : this.#backoff.next()
    this.#scheduleSocket(delay)
    if (this.#failures >= this.#timings.failuresBeforePolling) this.#startPolling()
    else if (!this.#polling) this.#setStatus('connecting', reason)
  }

  #scheduleSocket (delayMs: number): void {
    this.#clearRetry()
    this.#nextAttemptAt = Date.now() + delayMs
    this.#retryTimer = setTimeout(() => { this.#openSocket() }, delayMs)
  }

  #clearRetry (): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer)
    this.#retryTimer = null
    this.#nextAttemptAt = null
  }

  /** Forgets the current socket and its timers. */
  #dropSocket (): void {
    const ws = this.#ws
    if (ws !== null) for (const [type, listener] of this.#wsListeners) ws.removeEventListener(type, listener)
    this.#wsListeners = []
    this.#ws = null
    this.#live = false
    for (const timer of [this.#connectTimer, this.#pongTimer, this.#stableTimer]) if (timer !== null) clearTimeout(timer)
    if (this.#pingTimer !== null) clearInterval(this.#pingTimer)
    this.#connectTimer = this.#pongTimer = this.#stableTimer = this.#pingTimer = null
  }

  /** Drops the current socket and closes it without waiting for its close handshake. */
  #abandonSocket (): void {
    const ws = this.#ws
    this.#dropSocket()
    if (ws === null) return
    try {
      const terminate = (ws as { terminate?: () => void }).terminate
      if (typeof terminate === 'function') terminate.call(ws)
      else ws.close(1000, 'client gave up on this connection')
    } catch {}
  }

  /** Stops everything (terminal states). */
  #halt (): void {
    this.#clearRetry()
    this.#stopPolling()
    this.#abandonSocket()
  }

  #send (message: Record<string, unknown>): void {
    const ws = this.#ws
    if (ws !== null && this.#live && ws.readyState === OPEN) ws.send(JSON.stringify(message))
  }

  // ---- tokens ---------------------------------------------------------------

  /** Gets a new token from getToken; false (and status unauthorized) when there is none. */
  async #refreshToken (reason = 'no token'): Promise<boolean> {
    if (this.#getToken === undefined) {
      this.#halt()
      this.#setStatus('unauthorized', reason)
      return false
    }
    try {
      const token = await this.#getToken()
      if (typeof token !== 'string' || token === '') throw new TypeError('getToken() must return a non-empty string')
      this.#token = token
      return true
    } catch (err) {
      this.#halt()
      this.#setStatus('unauthorized', `${reason}; getToken failed: ${describeError(err)}`)
      return false
    }
  }

  /** A refused token: one fresh token from getToken, else `unauthorized` for good. */
  async #onRefused (reason: string, source: 'socket' | 'poll'): Promise<void> {
    if (this.#refreshed || this.#getToken === undefined) {
      this.#halt()
      this.#setStatus('unauthorized', reason)
      return
    }
    this.#refreshed = true
    if (!this.#polling) this.#setStatus('connecting', reason)
    if (!await this.#refreshToken(reason) || this.#closed) return
    if (source === 'socket') this.#openSocket()
  }

  /** The service warned that the token expires soon: send a fresh one on this connection. */
  async #renewToken (ws: WebSocketLike): Promise<void> {
    if (this.#getToken === undefined) return
    let token: string
    try {
      token = await this.#getToken()
    } catch {
      return // the service closes with 4401 when the token expires; handled there
    }
    if (typeof token !== 'string' || token === '') return
    this.#token = token
    if (ws === this.#ws && ws.readyState === OPEN) ws.send(JSON.stringify({ type: 'auth', token }))
  }

  // ---- polling ------------------------------------------------------------------

  #startPolling (): void {
    if (this.#polling || this.#closed) return
    this.#polling = true
    this.#setStatus('polling', null)
    void this.#poll()
  }

  #stopPolling (): void {
    this.#polling = false
    if (this.#pollTimer !== null) clearTimeout(this.#pollTimer)
    this.#pollTimer = null
    this.#pollAbort?.abort()
    this.#pollAbort = null
  }

  async #poll (): Promise<void> {
    this.#pollTimer = null
    if (!this.#polling) return
    const fetch = this.#fetch
    if (fetch === undefined) {
      this.#halt()
      this.#setStatus('offline', 'neither WebSocket nor fetch is available here')
      return
    }
    const abort = new AbortController()
    this.#pollAbort = abort
    const timeout = setTimeout(() => { abort.abort() }, this.#timings.pollTimeoutMs)
    try {
      const response = await fetch(this.#urls.poll, {
        headers: { authorization: `Bearer ${this.#token ?? ''}` },
        signal: abort.signal
      })
      const body = await response.json().catch(() => null) as { timestamp?: string, data?: Record<string, unknown>, message?: string } | null
      if (!this.#polling) return
      if (response.status === 401) {
        await this.#onRefused(body?.message ?? 'token refused (HTTP 401)', 'poll')
      } else if (response.ok && body !== null && typeof body.data === 'object') {
        this.#lastUpdate = new Date()
        this.#setStatus('polling', null)
        const message = { type: 'statistics_update' as const, timestamp: body.timestamp ?? new Date().toISOString(), data: body.data }
        this.#events.emit('message', message)
        this.#events.emit('statistics_update', message)
      } else {
        this.#setStatus('offline', `polling ${STATISTICS_PATH} failed: HTTP ${response.status}${body?.message === undefined ? '' : ` ${body.message}`}`)
      }
    } catch (err) {
      if (this.#polling) this.#setStatus('offline', `the service is unreachable: ${abort.signal.aborted ? 'the request timed out' : describeError(err)}`)
    } finally {
      clearTimeout(timeout)
      if (this.#pollAbort === abort) this.#pollAbort = null
      if (this.#polling && this.#pollTimer === null) {
        this.#pollTimer = setTimeout(() => { void this.#poll() }, this.#timings.pollIntervalMs)
      }
    }
  }

  // ---- subscription and seq ---------------------------------------------------

  /** True when every camera event and alert is subscribed: only then can `seq` gaps be told apart from filtering. */
  #complete (): boolean {
    return this.#cameras === null && SUBSCRIBABLE_EVENT_TYPES.every(type => this.#types.has(type))
  }

  #afterSubscriptionChange (wasComplete: boolean): void {
    this.#subscriptionChanged = true
    if (!wasComplete || !this.#complete()) this.#seq.resync()
  }

  #resendSubscription (): void {
    if (!this.#subscriptionChanged) return
    // A new connection starts with every type and camera; the service's
    // subscribe only adds, so types the page dropped are removed first.
    const dropped = SUBSCRIBABLE_EVENT_TYPES.filter(type => !this.#types.has(type))
    if (dropped.length > 0) this.#send({ type: 'unsubscribe', event_types: dropped })
    this.#send({
      type: 'subscribe',
      event_types: [...this.#types],
      camera_ids: this.#cameras === null ? null : [...this.#cameras]
    })
  }

  #checkSeq (seq: number): void {
    const fresh = this.#fresh
    this.#fresh = false
    // With a filter, jumps are expected: the seq is still recorded (resume
    // needs it), but never compared.
    const complete = this.#complete()
    if (!complete) this.#seq.resync()
    const gap = this.#seq.observe(seq, fresh)
    if (gap !== null && complete) this.#events.emit('gap', gap)
  }

  /** Whether the page's subscription wants a camera event or alert (the service's rule: cameras filter camera events only). */
  #wants (message: AnyMessage): boolean {
    if (!this.#types.has(message.type as SubscribableType)) return false
    return message.type !== 'camera_event' || this.#cameras === null || this.#cameras.has(String(message.camera_id))
  }

  // ---- status ----------------------------------------------------------------------

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
