import type { SequencedMessage } from '../protocol/messages.js'

/** What a gate holds: a sequenced message, or an already encoded broadcast frame. */
export type Held = SequencedMessage | Buffer

export interface LiveGateOptions {
  /** The most items held; past it `onOverflow` decides. */
  limit: number
  /**
   * Called once when the limit is reached. Returns true when the gate was
   * released (the hub then sends the item itself), false to drop the item
   * (the owner is closing the connection).
   */
  onOverflow: () => boolean
}

/**
 * Holds a connection's live messages while something else must reach it
 * first: the replay of missed messages on resume, or the short wait for a
 * `resume` sent as the first message. The hub asks the gate before it sends
 * a live message to a member that has one; the owner releases it, in order,
 * in one synchronous step, so nothing overtakes and nothing is lost.
 * Memory is bounded by `limit`.
 */
export class LiveGate {
  readonly #options: LiveGateOptions
  #held: Held[] = []
  #overflowed = false

  constructor (options: LiveGateOptions) {
    this.#options = options
  }

  get size (): number {
    return this.#held.length
  }

  /** Holds a live item; false when the caller must send it itself (the gate overflowed and was released). */
  hold (item: Held): boolean {
    if (this.#overflowed) return true
    if (this.#held.length >= this.#options.limit) {
      this.#overflowed = true
      return !this.#options.onOverflow()
    }
    this.#held.push(item)
    return true
  }

  /**
   * Everything held, in arrival order, without the sequenced messages the
   * client already has (`seq <= coveredSeq`). The gate is empty afterwards.
   */
  release (coveredSeq: number): Held[] {
    const held = this.#held
    this.#held = []
    return held.filter(item => Buffer.isBuffer(item) || item.seq > coveredSeq)
  }
}
