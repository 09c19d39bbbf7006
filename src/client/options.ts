import { endpoints } from './endpoints.js'
import type { WebSocketConstructor } from './types.js'

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

/** The options with every default filled in. */
export interface ResolvedOptions {
  timings: Timings
  urls: { ws: string, poll: string }
  token: string | undefined
  getToken: (() => string | Promise<string>) | undefined
  WebSocket: WebSocketConstructor | null
  fetch: typeof globalThis.fetch | undefined
  random: () => number
  resume: boolean
}

/**
 * Checks the options and fills in the defaults. A bad option throws at once,
 * saying what to pass, rather than failing at the first connection.
 */
export function resolveOptions (options: ConnectOptions): ResolvedOptions {
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
  const globalWebSocket = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
  return {
    timings,
    urls: endpoints(options.url),
    token: options.token,
    getToken: options.getToken,
    WebSocket: options.WebSocket === undefined ? globalWebSocket ?? null : options.WebSocket,
    fetch: options.fetch ?? globalThis.fetch?.bind(globalThis),
    random: options.random ?? Math.random,
    resume: options.resume !== false
  }
}
