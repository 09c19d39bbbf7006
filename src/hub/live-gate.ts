import type { SequencedMessage } from '../protocol/messages.js'

/** What a gate holds: a sequenced message, or an already encoded broadcast frame. */
export type Held = SequencedMessage | Buffer

export interface LiveGateOptions {
  /** The most items held; past it `onOverflow` decides. */
  limit: number
  /**
   * Called when the limit is reached. Returns true to go on: the owner has
   * made room (taken held items to send them: the item is held) or opened
   * the gate (`open()`: the hub sends the item itself). False drops the
   * item and every later one (the owner is closing the connection).
   */
  onOverflow: () => boolean
}

/**
 * Holds a connection's live messages while something else must reach it
 * first: the replay of missed messages on resume, or the short wait for a
 * `resume` sent as the first message. The hub asks the gate before it sends
 * a live message to a member that has one. The owner then takes what is
 * held, in order, in slices paced to the connection (`take`), while the
 * gate keeps holding newer messages behind them; it opens the gate in the
 * step that takes the last item, so nothing overtakes and nothing is lost.
 * Memory is bounded by `limit`.
 */
export class LiveGate {
  readonly #options: LiveGateOptions
  #held: Held[] = []
  #overflowed = false
  #open = false

  constructor (options: LiveGateOptions) {
    this.#options = options
  }

  get size (): number {
    return this.#held.length
  }

  /** Whether the gate was opened: the hub sends to the member directly. */
  get isOpen (): boolean {
    return this.#open
  }

  /** Holds a live item; false when the caller must send it itself (the gate is open). */
  hold (item: Held): boolean {
    if (this.#open) return false
    if (this.#overflowed) return true
    if (this.#held.length >= this.#options.limit) {
      if (!this.#options.onOverflow()) {
        this.#overflowed = true
        return true
      }
      if (this.#open || this.#held.length >= this.#options.limit) return false
    }
    this.#held.push(item)
    return true
  }

  /**
   * Up to `max` of the oldest items held, in arrival order, without the
   * sequenced messages the client already has (`seq <= coveredSeq`).
   */
  take (max: number, coveredSeq: number): Held[] {
    const taken = this.#held.length <= max ? this.#held : this.#held.slice(0, max)
    this.#held = taken === this.#held ? [] : this.#held.slice(max)
    return taken.filter(item => Buffer.isBuffer(item) || item.seq > coveredSeq)
  }

  /**
   * Everything held, in arrival order, without the sequenced messages the
   * client already has (`seq <= coveredSeq`). The gate is empty afterwards.
   */
  release (coveredSeq: number): Held[] {
    return this.take(Number.POSITIVE_INFINITY, coveredSeq)
  }

  /** Opens the gate: later items are the hub's to send. Call once nothing is held. */
  open (): void {
    this.#open = true
  }
}
