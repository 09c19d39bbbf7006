import { afterPendingIo } from '../net/after-pending-io.js'

export interface TokenExpiryOptions {
  /** Warn this long before expiry; 0 never warns. */
  warningMs: number
  /** Close this long after expiry (the tolerated clock skew). */
  skewMs: number
  /** Called once per token, `warningMs` before it expires. */
  onWarn: (id: string, expiresAt: number) => void
  /** Called when the token has expired without being replaced. */
  onExpire: (id: string) => void
  /** Called when onWarn or onExpire threw; the wheel goes on with the other entries. */
  onError?: (id: string, err: unknown) => void
  /** The wheel's tick; events fire at most this late. */
  resolutionMs?: number
  now?: () => number
}

interface Entry {
  expiresAt: number
  warned: boolean
  /** The bucket the entry's next event is filed in. */
  bucket: number
}

/**
 * The token lifetimes of live connections, on one timer wheel: every entry
 * is filed in the bucket (of `resolutionMs`) of its next event, the warning
 * or the expiry, and one interval empties the buckets that came due. No
 * timer per connection, one entry per connection, and each tick touches
 * only what is due. A refreshed token is simply filed again; the entry left
 * in the old bucket is recognised as stale and skipped.
 */
export class TokenExpiry {
  readonly #options: TokenExpiryOptions
  readonly #resolution: number
  readonly #now: () => number
  readonly #entries = new Map<string, Entry>()
  readonly #buckets = new Map<number, Set<string>>()
  #lastBucket: number
  #timer: NodeJS.Timeout | null = null

  constructor (options: TokenExpiryOptions) {
    this.#options = options
    this.#resolution = options.resolutionMs ?? 250
    this.#now = options.now ?? Date.now
    this.#lastBucket = Math.floor(this.#now() / this.#resolution)
  }

  get size (): number {
    return this.#entries.size
  }

  /** Starts the wheel (an unref'd interval). */
  start (): void {
    if (this.#timer !== null) return
    this.#lastBucket = Math.floor(this.#now() / this.#resolution)
    // After messages already received are read: a fresh token the client
    // sent before expiry, still unread because this process was busy past
    // it, must not lose its connection (see afterPendingIo).
    this.#timer = setInterval(() => { afterPendingIo(() => { if (this.#timer !== null) this.tick() }) }, this.#resolution)
    this.#timer.unref()
  }

  stop (): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
  }

  /** Tracks (or re-tracks, after a refresh) a connection's token; null expiry forgets it. */
  track (id: string, expiresAt: number | null): void {
    if (expiresAt === null) {
      this.untrack(id)
      return
    }
    const old = this.#entries.get(id)
    if (old !== undefined) this.#buckets.get(old.bucket)?.delete(id)
    const entry: Entry = { expiresAt, warned: this.#options.warningMs <= 0, bucket: -1 }
    this.#entries.set(id, entry)
    this.#file(id, entry)
  }

  untrack (id: string): void {
    const entry = this.#entries.get(id)
    if (entry === undefined) return
    this.#entries.delete(id)
    this.#buckets.get(entry.bucket)?.delete(id)
  }

  /** Fires every event that has come due. Called by the interval; tests may call it. */
  tick (): void {
    const current = Math.floor(this.#now() / this.#resolution)
    while (this.#lastBucket < current) {
      const bucket = ++this.#lastBucket
      const ids = this.#buckets.get(bucket)
      if (ids === undefined) continue
      this.#buckets.delete(bucket)
      for (const id of ids) {
        const entry = this.#entries.get(id)
        if (entry === undefined || entry.bucket !== bucket) continue
        // The wheel runs on a timer: a throw here would reach the process.
        try {
          if (!entry.warned) {
            entry.warned = true
            this.#file(id, entry)
            this.#options.onWarn(id, entry.expiresAt)
          } else {
            this.#entries.delete(id)
            this.#options.onExpire(id)
          }
        } catch (err) {
          if (this.#options.onError === undefined) throw err
          this.#options.onError(id, err)
        }
      }
    }
  }

  #file (id: string, entry: Entry): void {
    const at = entry.warned ? entry.expiresAt + this.#options.skewMs : entry.expiresAt - this.#options.warningMs
    // Something already due fires on the next tick.
    const bucket = Math.max(this.#lastBucket + 1, Math.ceil(at / this.#resolution))
    if (entry.bucket !== bucket) this.#buckets.get(entry.bucket)?.delete(id)
    entry.bucket = bucket
    let ids = this.#buckets.get(bucket)
    if (ids === undefined) {
      ids = new Set()
      this.#buckets.set(bucket, ids)
    }
    ids.add(id)
  }
}
