/**
 * Events per minute. The service sends them in each snapshot (`series`:
 * the last 60 minutes, counted where `events_today` is), so the chart has
 * history from the first snapshot on; `adopt` takes that. From a service
 * without `series` they come from the growth of `events_total` between
 * statistics updates (only what this page saw). Counting the total
 * (instead of the events pushed to this page) keeps the chart right while
 * the page is polling and after reconnects.
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

  /**
   * Takes the service's `series` (`minute_start`, `events`); the service's
   * counts replace this page's for the minutes it covers. `total` is the
   * snapshot's `events_total`, the baseline should a later snapshot come
   * without a series. Returns false (and changes nothing) for anything
   * that is not a series.
   */
  adopt (given: unknown, total: unknown): boolean {
    if (given === null || typeof given !== 'object') return false
    const { minute_start: start, events } = given as { minute_start?: unknown, events?: unknown }
    const first = typeof start === 'string' ? Date.parse(start) : NaN
    if (Number.isNaN(first) || !Array.isArray(events) || events.length > 1440 || !events.every(count => typeof count === 'number' && count >= 0)) return false
    const slot = Math.floor(first / MINUTE_MS)
    events.forEach((count: number, i) => {
      if (count === 0) this.#counts.delete(slot + i)
      else this.#counts.set(slot + i, count)
    })
    if (typeof total === 'number') this.#lastTotal = total
    return true
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
