/**
 * Events per minute, from the growth of `events_total` between statistics
 * updates. Counting the total (instead of the events pushed to this page)
 * keeps the chart right while the page is polling and after reconnects.
 */
export const MINUTE_MS = 60_000

export class MinuteSeries {
  readonly minutes: number
  readonly #counts = new Map<number, number>()
  #lastTotal: number | null = null

  constructor (minutes = 30) {
    this.minutes = minutes
  }

  /** Records a new `events_total` seen at `at` (ms). A smaller total (a restarted service) only starts over. */
  record (total: number, at: number): void {
    if (this.#lastTotal !== null && total > this.#lastTotal) {
      const slot = Math.floor(at / MINUTE_MS)
      this.#counts.set(slot, (this.#counts.get(slot) ?? 0) + total - this.#lastTotal)
    }
    this.#lastTotal = total
    this.#prune(at)
  }

  /** The last `minutes` counts, oldest first, ending with the current minute. */
  window (at: number): Array<{ start: number, count: number }> {
    this.#prune(at)
    const current = Math.floor(at / MINUTE_MS)
    return Array.from({ length: this.minutes }, (_, i) => {
      const slot = current - this.minutes + 1 + i
      return { start: slot * MINUTE_MS, count: this.#counts.get(slot) ?? 0 }
    })
  }

  #prune (at: number): void {
    const oldest = Math.floor(at / MINUTE_MS) - this.minutes + 1
    for (const slot of this.#counts.keys()) if (slot < oldest) this.#counts.delete(slot)
  }
}
