import type { AlertMessage } from '../../src/protocol/messages.js'

/** The most undismissed alerts kept; older ones are dropped and counted. */
export const ALERT_LIMIT = 200
/** How many seqs are remembered to recognise a replayed alert (dismissed ones included). */
export const SEEN_LIMIT = 2000

/**
 * The alerts an operator has not dismissed yet, newest first. Pure (no DOM)
 * so it can be tested in Node. An alert is known by its `seq`: a replay after
 * a reconnect brings back alerts already shown (or already dismissed), and
 * those change nothing.
 */
export class AlertList {
  readonly #limit: number
  readonly #seenLimit: number
  /** Newest first. */
  #alerts: AlertMessage[] = []
  /** Insertion-ordered, so the oldest seq is the first one forgotten. */
  readonly #seen = new Set<number>()
  #dropped = 0

  constructor (limit = ALERT_LIMIT, seenLimit = SEEN_LIMIT) {
    this.#limit = limit
    this.#seenLimit = Math.max(seenLimit, limit)
  }

  /** Adds an alert; false (and nothing changes) when its seq was seen before. */
  add (alert: AlertMessage): boolean {
    if (this.#seen.has(alert.seq)) return false
    this.#seen.add(alert.seq)
    if (this.#seen.size > this.#seenLimit) {
      const oldest = this.#seen.values().next().value
      if (oldest !== undefined) this.#seen.delete(oldest)
    }
    this.#alerts.unshift(alert)
    if (this.#alerts.length > this.#limit) {
      this.#dropped += this.#alerts.length - this.#limit
      this.#alerts.length = this.#limit
    }
    return true
  }

  /** Removes one alert; false when it is not in the list. Its seq stays seen, so a replay does not bring it back. */
  dismiss (seq: number): boolean {
    const index = this.#alerts.findIndex(alert => alert.seq === seq)
    if (index === -1) return false
    this.#alerts.splice(index, 1)
    return true
  }

  /** Removes every alert, and the note about dropped ones. */
  dismissAll (): void {
    this.#alerts = []
    this.#dropped = 0
  }

  /** Undismissed alerts, newest first. */
  get alerts (): readonly AlertMessage[] {
    return this.#alerts
  }

  /** Undismissed alerts (the badge). */
  get count (): number {
    return this.#alerts.length
  }

  /** Older alerts dropped to keep the list bounded (never dismissed, not shown). */
  get dropped (): number {
    return this.#dropped
  }
}

/** The localStorage key of the critical-alert sound switch. */
export const SOUND_KEY = 'dashboard.alert-sound'

/** Whether the sound is on: only when the operator turned it on ("on" stored); off by default. */
export function soundOn (stored: string | null): boolean {
  return stored === 'on'
}
