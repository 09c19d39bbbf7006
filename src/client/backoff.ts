/**
 * Reconnect delays: exponential backoff with full jitter.
 *
 * The ceiling doubles with every failed attempt, from `baseMs` up to `maxMs`,
 * and each delay is drawn uniformly between 0 and that ceiling. The jitter
 * matters as much as the growth: after a service restart every dashboard
 * would otherwise come back in the same instant.
 */

export interface BackoffOptions {
  /** Ceiling of the first delay. */
  baseMs: number
  /** Largest ceiling, reached after a few failures. */
  maxMs: number
  /** A number in [0, 1); injectable so tests can pin the jitter. */
  random?: () => number
}

/** The ceiling of the delay after `attempt` failures in a row (0 = first retry). */
export function backoffCeiling (attempt: number, baseMs: number, maxMs: number): number {
  // The exponent is capped so a long outage cannot overflow to Infinity.
  return Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt, 0), 30))
}

/** One full-jitter delay in [0, ceiling). */
export function fullJitter (attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(attempt, baseMs, maxMs))
}

/** A backoff sequence: `next()` per failed attempt, `reset()` once a connection has proved stable. */
export class Backoff {
  readonly #options: Required<BackoffOptions>
  #attempt = 0

  constructor (options: BackoffOptions) {
    this.#options = { random: Math.random, ...options }
  }

  /** Failed attempts since the last reset. */
  get attempt (): number {
    return this.#attempt
  }

  /** The delay before the next attempt; grows the ceiling for the one after. */
  next (): number {
    const { baseMs, maxMs, random } = this.#options
    return fullJitter(this.#attempt++, baseMs, maxMs, random)
  }

  reset (): void {
    this.#attempt = 0
  }
}
