import type { StatisticsUpdateMessage } from '../protocol/messages.js'
import { STATISTICS_PATH } from './endpoints.js'
import type { Timings } from './options.js'
import { describeError, type Timer } from './types.js'

/**
 * The fallback while the socket is down: GET /api/statistics every
 * `pollIntervalMs`, each request cut off after `pollTimeoutMs`. A failed poll
 * is reported and the next one still comes; only `stop()` ends the loop.
 */

export type PollTimings = Pick<Timings, 'pollIntervalMs' | 'pollTimeoutMs'>

export interface PollHandlers {
  /** The token for the next request. */
  token: () => string | undefined
  /** Polling started (before the first request). */
  onStart: () => void
  /** A poll answered: the statistics, as the socket would have pushed them. */
  onStatistics: (message: StatisticsUpdateMessage) => void
  /** HTTP 401; the next poll waits until this settles. */
  onRefused: (reason: string) => Promise<void>
  /** A poll failed (HTTP error, unreachable, timed out); polling goes on. */
  onFailure: (reason: string) => void
  /** Polling is impossible here (no fetch); the loop has stopped. */
  onUnavailable: (reason: string) => void
}

interface StatisticsBody {
  timestamp?: string
  data?: Record<string, unknown>
  message?: string
}

export class Poller {
  readonly #url: string
  readonly #fetch: typeof globalThis.fetch | undefined
  readonly #timings: PollTimings
  readonly #handlers: PollHandlers
  #active = false
  #timer: Timer | null = null
  #abort: AbortController | null = null

  constructor (url: string, fetch: typeof globalThis.fetch | undefined, timings: PollTimings, handlers: PollHandlers) {
    this.#url = url
    this.#fetch = fetch
    this.#timings = timings
    this.#handlers = handlers
  }

  /** Between `start()` and `stop()`. */
  get active (): boolean {
    return this.#active
  }

  /** Polls at once, then every `pollIntervalMs`; a no-op while active. */
  start (): void {
    if (this.#active) return
    this.#active = true
    this.#handlers.onStart()
    void this.#poll()
  }

  /** Stops the loop and aborts the request in flight. */
  stop (): void {
    this.#active = false
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#abort?.abort()
    this.#abort = null
  }

  async #poll (): Promise<void> {
    this.#timer = null
    if (!this.#active) return
    const fetch = this.#fetch
    if (fetch === undefined) {
      this.stop()
      this.#handlers.onUnavailable('neither WebSocket nor fetch is available here')
      return
    }
    const abort = new AbortController()
    this.#abort = abort
    const timeout = setTimeout(() => { abort.abort() }, this.#timings.pollTimeoutMs)
    try {
      const response = await fetch(this.#url, {
        headers: { authorization: `Bearer ${this.#handlers.token() ?? ''}` },
        signal: abort.signal
      })
      const body = await response.json().catch(() => null) as StatisticsBody | null
      if (!this.#active) return
      if (response.status === 401) {
        await this.#handlers.onRefused(body?.message ?? 'token refused (HTTP 401)')
      } else if (response.ok && body !== null && typeof body.data === 'object') {
        this.#handlers.onStatistics({ type: 'statistics_update', timestamp: body.timestamp ?? new Date().toISOString(), data: body.data as StatisticsUpdateMessage['data'] })
      } else {
        this.#handlers.onFailure(`polling ${STATISTICS_PATH} failed: HTTP ${response.status}${body?.message === undefined ? '' : ` ${body.message}`}`)
      }
    } catch (err) {
      if (this.#active) this.#handlers.onFailure(`the service is unreachable: ${abort.signal.aborted ? 'the request timed out' : describeError(err)}`)
    } finally {
      clearTimeout(timeout)
      if (this.#abort === abort) this.#abort = null
      if (this.#active && this.#timer === null) {
        this.#timer = setTimeout(() => { void this.#poll() }, this.#timings.pollIntervalMs)
      }
    }
  }
}
