import type { SequencedMessage } from '../protocol/messages.js'
import type { History } from './history.js'

export interface MemoryHistoryOptions {
  /** The most messages kept; 0 keeps none (every resume must resync). */
  maxMessages: number
  /** Messages older than this (by arrival) are dropped. */
  windowMs: number
  /** The clock (tests pass their own). */
  now?: () => number
}

/**
 * The in-process history: a ring buffer of the last `maxMessages` messages,
 * pruned by age on every append and read. Memory is bounded by the count.
 *
 * Completeness is tracked by `seq`, which the bus assigns without gaps: the
 * history can answer `since(n)` exactly when it still holds `n + 1` (or
 * nothing newer than `n` was ever published). Anything older, or an `n`
 * beyond the newest seq (the bus was restarted and counts from 1 again),
 * means the client must resync.
 */
export class MemoryHistory implements History {
  readonly #max: number
  readonly #windowMs: number
  readonly #now: () => number
  readonly #messages: Array<SequencedMessage | undefined>
  readonly #arrivals: Float64Array
  /** Index of the oldest kept message. */
  #head = 0
  #size = 0
  /** The newest seq appended; 0 before the first. */
  #newest = 0
  /**
   * The lowest seq the history can vouch for: every message from it on was
   * appended (or, if not kept, evicted and so recorded here). Null until
   * the first append.
   */
  #completeFrom: number | null = null

  constructor (options: MemoryHistoryOptions) {
    this.#max = options.maxMessages
    this.#windowMs = options.windowMs
    this.#now = options.now ?? Date.now
    this.#messages = new Array(this.#max).fill(undefined)
    this.#arrivals = new Float64Array(this.#max)
  }

  /** Messages currently kept (within the window). */
  get size (): number {
    this.#prune(this.#now())
    return this.#size
  }

  append (message: SequencedMessage): void {
    const at = this.#now()
    if (this.#completeFrom === null) this.#completeFrom = message.seq
    this.#newest = message.seq
    if (this.#max === 0) {
      this.#completeFrom = message.seq + 1
      return
    }
    if (this.#size === this.#max) this.#evictOldest()
    const index = (this.#head + this.#size) % this.#max
    this.#messages[index] = message
    this.#arrivals[index] = at
    this.#size++
    this.#prune(at)
  }

  async since (lastSeq: number): Promise<SequencedMessage[] | null> {
    return this.sinceSync(lastSeq)
  }

  /** `since` without the promise, for callers in a synchronous path. */
  sinceSync (lastSeq: number): SequencedMessage[] | null {
    this.#prune(this.#now())
    if (lastSeq > this.#newest) return null
    if (lastSeq === this.#newest) return []
    // lastSeq < newest, so something was appended and #completeFrom is set.
    if (lastSeq + 1 < (this.#completeFrom ?? Infinity)) return null
    // The kept messages are in seq order: find the first one after lastSeq.
    let low = 0
    let high = this.#size
    while (low < high) {
      const mid = (low + high) >>> 1
      if (this.#at(mid).seq <= lastSeq) low = mid + 1
      else high = mid
    }
    const out: SequencedMessage[] = []
    for (let i = low; i < this.#size; i++) out.push(this.#at(i))
    return out
  }

  #at (offset: number): SequencedMessage {
    return this.#messages[(this.#head + offset) % this.#max] as SequencedMessage
  }

  #evictOldest (): void {
    const evicted = this.#messages[this.#head] as SequencedMessage
    this.#messages[this.#head] = undefined
    this.#head = (this.#head + 1) % this.#max
    this.#size--
    this.#completeFrom = evicted.seq + 1
  }

  #prune (at: number): void {
    while (this.#size > 0 && at - this.#arrivals[this.#head] > this.#windowMs) this.#evictOldest()
  }
}
