/**
 * Whether the statistics on the cards are current. The service gathers them
 * every `stats_interval_ms` (told in `connected`) and pushes them when they
 * changed, so silence alone is ambiguous: a quiet service sends nothing.
 * Three things make them stale:
 * - the snapshot says so (`stale`: the cluster's shared state is
 *   unreachable; `upstream_stale`: the upstream source failed);
 * - a live camera event arrived and no statistics followed within
 *   3 intervals (every event changes the counts, so a push was due);
 * - nothing new for longer than a minute and 3 intervals: the per-minute
 *   series moves on every minute, so even a quiet service pushes that often.
 *   While polling, a snapshot is gathered every interval whether or not it
 *   changed, so a timestamp that stops moving for 3 intervals (and a poll)
 *   is enough.
 * Times are this browser's clock only (arrival times), never compared
 * with the service's, so clock skew cannot make numbers stale.
 */

/** The service's default STATS_INTERVAL_MS, assumed until `connected` tells the real one. */
export const DEFAULT_STATS_INTERVAL_MS = 5000
/** How late a push may be before it counts as missing: 3 intervals, but never less than this. */
const MIN_GRACE_MS = 2000
/** The series moves on every minute: the longest a working service stays silent, plus the grace. */
const QUIET_MS = 60_000

export type FreshnessMode = 'live' | 'polling' | 'down'

export interface Staleness {
  /** When the cards were last known to be current (this browser's clock); null while they are. */
  since: number | null
  /** Why, for the tooltip. */
  reason: string
}

export class Freshness {
  #intervalMs = DEFAULT_STATS_INTERVAL_MS
  #lastTimestamp: string | null = null
  /** When statistics with a new timestamp last arrived. */
  #freshAt: number | null = null
  /** When a snapshot flagged stale first arrived (null while they are not flagged). */
  #flaggedAt: number | null = null
  #flag = ''
  /** The first live camera event since the last statistics. */
  #eventAt: number | null = null

  /** `stats_interval_ms` from `connected`; anything else keeps the last known value. */
  setInterval (value: unknown): void {
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) this.#intervalMs = value
  }

  get graceMs (): number {
    return Math.max(3 * this.#intervalMs, MIN_GRACE_MS)
  }

  /**
   * A new connection: its first snapshot is the service's current one even
   * when it has the timestamp of the last push (nothing changed since).
   */
  connected (): void {
    this.#lastTimestamp = null
  }

  /** A statistics snapshot arrived at `at`. */
  statistics (timestamp: string, data: Record<string, unknown>, at: number): void {
    const flag = data.stale === true ? 'the service cannot reach its shared state' : data.upstream_stale === true ? 'the upstream statistics source is not answering' : ''
    if (flag !== '') {
      this.#flaggedAt ??= at
      this.#flag = flag
    } else {
      this.#flaggedAt = null
      this.#flag = ''
    }
    if (timestamp !== this.#lastTimestamp) {
      this.#lastTimestamp = timestamp
      this.#eventAt = null
      if (flag === '') this.#freshAt = at
    }
  }

  /** A live (not replayed) camera event arrived at `at`: the counts changed, a push is due. */
  event (at: number): void {
    this.#eventAt ??= at
  }

  /** Whether the cards are stale at `at`, with the page's connection in `mode`. */
  check (at: number, mode: FreshnessMode, pollIntervalMs: number): Staleness {
    if (this.#flaggedAt !== null) return { since: this.#freshAt ?? this.#flaggedAt, reason: this.#flag }
    const fresh = this.#freshAt
    if (fresh === null) return { since: null, reason: '' }
    if (mode === 'down') return { since: fresh, reason: 'the page is not connected to the service' }
    const grace = this.graceMs
    if (mode === 'polling') {
      return at - fresh > grace + pollIntervalMs ? { since: fresh, reason: 'the service has not gathered new statistics' } : { since: null, reason: '' }
    }
    if (this.#eventAt !== null && at - this.#eventAt > grace) return { since: fresh, reason: 'events arrive but the statistics do not follow' }
    if (at - fresh > QUIET_MS + grace) return { since: fresh, reason: 'no statistics from the service for over a minute' }
    return { since: null, reason: '' }
  }
}
