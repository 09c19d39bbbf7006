/**
 * The per-minute history in the statistics: events and recognitions of
 * each of the last SERIES_MINUTES UTC minutes, the current one last. It is
 * counted by the same counter as `events_today` (in memory the event
 * source, in Redis the publish script), so a chart drawn from it agrees
 * with the cards: over today's minutes it never sums past `events_today`.
 * Sent whole in every snapshot (2 × 60 numbers): simpler than tails, and small.
 */

export const SERIES_MINUTES = 60
const MINUTE_MS = 60_000

/** `data.series`: `events[i]`, `recognitions[i]` count the minute starting `minute_start + i` minutes. */
export interface MinuteSeries {
  /** The oldest minute's start, ISO 8601 (UTC); the last entry is the minute in progress. */
  minute_start: string
  events: number[]
  recognitions: number[]
}

/** The minute (ms since the epoch / 60 000) a time falls in: the bucket an event counts in. */
export function minuteOf (ms: number): number {
  return Math.floor(ms / MINUTE_MS)
}

/** Events and recognitions per minute, kept for the last SERIES_MINUTES minutes only. */
export class MinuteCounts {
  /** Minute → [events, recognitions], in minute order (events arrive in time order). */
  readonly #minutes = new Map<number, [number, number]>()

  add (at: number, recognition: boolean): void {
    this.addCounts(at, 1, recognition ? 1 : 0)
  }

  /** Adds counts to `at`'s minute (minutes must come in time order for pruning to keep the newest). */
  addCounts (at: number, events: number, recognitions: number): void {
    const minute = minuteOf(at)
    let counts = this.#minutes.get(minute)
    if (counts === undefined) {
      counts = [0, 0]
      this.#minutes.set(minute, counts)
      this.prune(at)
    }
    counts[0] += events
    counts[1] += recognitions
  }

  /** Forgets the minutes older than the window ending at `at`. */
  prune (at: number): void {
    const oldest = minuteOf(at) - SERIES_MINUTES + 1
    for (const minute of this.#minutes.keys()) if (minute < oldest) this.#minutes.delete(minute)
  }

  get (minute: number): readonly [number, number] | undefined {
    return this.#minutes.get(minute)
  }

  get size (): number {
    return this.#minutes.size
  }
}

/** The series of the window ending in `at`'s minute, from a reader of each minute's counts. */
export function seriesOf (at: number, countsOf: (minute: number) => readonly [number, number] | undefined): MinuteSeries {
  const first = minuteOf(at) - SERIES_MINUTES + 1
  const events: number[] = []
  const recognitions: number[] = []
  for (let minute = first; minute < first + SERIES_MINUTES; minute++) {
    const counts = countsOf(minute)
    events.push(counts?.[0] ?? 0)
    recognitions.push(counts?.[1] ?? 0)
  }
  return { minute_start: new Date(first * MINUTE_MS).toISOString(), events, recognitions }
}

/** A view's series: the sum of its cameras' series. */
export function sumSeries (at: number, parts: Iterable<MinuteCounts>): MinuteSeries {
  const all = [...parts]
  return seriesOf(at, minute => {
    let events = 0
    let recognitions = 0
    for (const part of all) {
      const counts = part.get(minute)
      if (counts === undefined) continue
      events += counts[0]
      recognitions += counts[1]
    }
    return [events, recognitions]
  })
}
