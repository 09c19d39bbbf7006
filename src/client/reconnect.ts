import { Backoff } from './backoff.js'
import type { Timings } from './options.js'
import { CLOSE } from './socket.js'
import type { Timer } from './types.js'

/**
 * When the next socket attempt comes: the backoff after failures, the
 * restart jitter after a restart code, the delay a draining service asked
 * for, and when enough failures in a row call for polling meanwhile.
 */

/** What a socket's close code calls for. */
export type CloseAction = 'refresh-token' | 'stop' | 'retry'

/** Codes after which the service asks for a reconnect a little later (restart, try again later). */
const RESTART_CODES = new Set<number>([CLOSE.GOING_AWAY, CLOSE.SERVICE_RESTART, CLOSE.TRY_AGAIN_LATER])

/** A `reconnect_in_ms` beyond this is taken as this: a page should not stay away longer than 10 minutes. */
export const MAX_RESTART_DELAY_MS = 600_000

/** What follows a socket that ended with `code`: a new token, a stop, or a retry. */
export function closeAction (code: number): CloseAction {
  if (code === CLOSE.UNAUTHORIZED) return 'refresh-token'
  // The connection limit or a refused origin: retrying cannot help and
  // would only take the slot another tab of this user frees.
  if (code === CLOSE.POLICY_VIOLATION || code === CLOSE.FORBIDDEN) return 'stop'
  return 'retry'
}

export type ReconnectTimings = Pick<Timings, 'backoffBaseMs' | 'backoffMaxMs' | 'stableAfterMs' | 'restartJitterMs' | 'failuresBeforePolling'>

export class Reconnector {
  readonly #timings: ReconnectTimings
  readonly #random: () => number
  readonly #attempt: () => void
  readonly #backoff: Backoff
  /** Socket attempts in a row that never became live. */
  #failures = 0
  #retryTimer: Timer | null = null
  #nextAttemptAt: number | null = null
  /** When the service, restarting, asked this client to reconnect (ms since the epoch), or null. */
  #restartAt: number | null = null
  #stableTimer: Timer | null = null

  /** @param attempt opens the next socket when its delay is over. */
  constructor (timings: ReconnectTimings, random: () => number, attempt: () => void) {
    this.#timings = timings
    this.#random = random
    this.#attempt = attempt
    this.#backoff = new Backoff({ baseMs: timings.backoffBaseMs, maxMs: timings.backoffMaxMs, random })
  }

  /** When the next socket attempt is due (ms since the epoch), or null when none is scheduled. */
  get nextAttemptAt (): number | null {
    return this.#nextAttemptAt
  }

  /** Failed attempts the backoff counts (reset by a stable connection). */
  get backoffAttempt (): number {
    return this.#backoff.attempt
  }

  /** Enough attempts in a row failed that the page should poll meanwhile. */
  get failing (): boolean {
    return this.#failures >= this.#timings.failuresBeforePolling
  }

  /** A socket went live: failures are forgiven, and the backoff too once it stays up. */
  connected (): void {
    this.#restartAt = null
    this.#failures = 0
    if (this.#stableTimer !== null) clearTimeout(this.#stableTimer)
    this.#stableTimer = setTimeout(() => { this.#backoff.reset() }, this.#timings.stableAfterMs)
  }

  /** The socket is gone: it did not last long enough to reset the backoff. */
  disconnected (): void {
    if (this.#stableTimer !== null) clearTimeout(this.#stableTimer)
    this.#stableTimer = null
  }

  /** `server_restart`: the next attempt comes after the delay the service chose, which spreads the reconnects. */
  restartNotice (delayMs: unknown): void {
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) return
    this.#restartAt = Date.now() + Math.min(delayMs, MAX_RESTART_DELAY_MS)
  }

  /** Schedules the attempt after a socket that ended with `code`. */
  retry (code: number, wasLive: boolean): void {
    if (!wasLive) this.#failures++
    const restartAt = this.#restartAt
    this.#restartAt = null
    const delay = restartAt !== null
      ? Math.max(0, restartAt - Date.now())
      : RESTART_CODES.has(code)
        ? Math.floor(this.#random() * this.#timings.restartJitterMs)
        : this.#backoff.next()
    this.cancel()
    this.#nextAttemptAt = Date.now() + delay
    this.#retryTimer = setTimeout(() => { this.#attempt() }, delay)
  }

  /** Forgets the scheduled attempt, if any. */
  cancel (): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer)
    this.#retryTimer = null
    this.#nextAttemptAt = null
  }
}
