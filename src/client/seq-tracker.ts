/**
 * Notices jumps in the `seq` numbers of camera events and alerts.
 *
 * Every published message gets the next `seq`, whoever it is for. A jump
 * means messages were published that this page did not get: most are not
 * for it (another camera, another user's alert), so the caller decides
 * which jumps count (Subscriptions.observe: only across a reconnect that
 * did not resume).
 */

/** The missing `seq` numbers, both ends included. */
export interface SeqGap {
  from: number
  to: number
}

export class SeqTracker {
  #last: number | null = null
  #resync = true

  /** The highest `seq` seen, or null before the first. */
  get last (): number | null {
    return this.#last
  }

  /**
   * Starts over at the next `seq` without reporting a gap: the next number is
   * not comparable to the last one (a changed subscription filter, say).
   */
  resync (): void {
    this.#resync = true
  }

  /**
   * Records a `seq` and returns the gap before it, if any. A number at or
   * below the last one right after a reconnect means the service restarted
   * its counter: tracking starts over there. Otherwise it is a duplicate and
   * is ignored.
   * @param fresh true for the first sequenced message on a new connection.
   */
  observe (seq: number, fresh = false): SeqGap | null {
    const last = this.#last
    if (last === null || this.#resync) {
      this.#resync = false
      this.#last = seq
      return null
    }
    if (seq <= last) {
      if (fresh) this.#last = seq
      return null
    }
    this.#last = seq
    return seq > last + 1 ? { from: last + 1, to: seq - 1 } : null
  }
}
