import type { Publication } from './bus.js'

/** The most idempotency keys one process remembers; the oldest is forgotten first. */
export const MAX_IDEMPOTENCY_KEYS = 100_000

interface Entry {
  readonly seq: Promise<number>
  readonly expiresAt: number
}

export interface IdempotencyOptions {
  /** How long a key is remembered; 0 remembers none (keys are ignored). */
  windowMs: number
  maxKeys?: number
  now?: () => number
}

/**
 * The in-process memory of idempotency keys (the memory bus; in Redis mode
 * the publish script keeps them). A key maps to the seq its first publish
 * got, for `windowMs`. A duplicate that arrives while the first publish is
 * still running waits for it and shares its seq. Bounded: at `maxKeys` the
 * oldest key is dropped. Every key lives equally long, so insertion order
 * is expiry order and pruning only ever looks at the oldest entries.
 */
export class IdempotencyKeys {
  readonly #windowMs: number
  readonly #maxKeys: number
  readonly #now: () => number
  readonly #entries = new Map<string, Entry>()

  constructor (options: IdempotencyOptions) {
    this.#windowMs = options.windowMs
    this.#maxKeys = options.maxKeys ?? MAX_IDEMPOTENCY_KEYS
    this.#now = options.now ?? Date.now
  }

  get size (): number {
    return this.#entries.size
  }

  /** Runs `publish` unless `key` was seen within the window; then answers the seq it got. */
  async once (key: string | undefined, publish: () => Promise<number>): Promise<Publication> {
    if (key === undefined || this.#windowMs <= 0) return { seq: await publish(), replayed: false }
    const at = this.#now()
    this.#prune(at)
    const prior = this.#entries.get(key)
    if (prior !== undefined) return { seq: await prior.seq, replayed: true }
    if (this.#entries.size >= this.#maxKeys) this.#entries.delete(this.#entries.keys().next().value as string)
    const entry: Entry = { seq: publish(), expiresAt: at + this.#windowMs }
    this.#entries.set(key, entry)
    try {
      return { seq: await entry.seq, replayed: false }
    } catch (err) {
      // Nothing was published: a retry with this key must publish.
      if (this.#entries.get(key) === entry) this.#entries.delete(key)
      throw err
    }
  }

  #prune (at: number): void {
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt > at) return
      this.#entries.delete(key)
    }
  }
}
