/** A slot to free: connection id → user id. */
export type Release = readonly [connectionId: string, userId: string]

export interface ReleaseBatcherOptions {
  /** Releases per script call, at most. */
  maxBatch: number
  /** Frees a batch in Redis; rejects when Redis did not (the caller keeps them for a retry). */
  send: (batch: Release[]) => Promise<void>
  /** A batch whose call failed: it may or may not have run, so it must be released again later. */
  failed: (batch: Release[]) => void
}

/**
 * Gathers the slot releases of connections that close in one turn of the
 * event loop into one script call. When many connections drop at once (a
 * network blip, a load balancer restart, clients closing their laptops) the
 * instance would otherwise send one script per connection, just when the
 * same clients reconnect and their acquires wait behind the releases: a
 * user whose old slots are not freed yet is refused at the limit.
 *
 * Releases go out in the order they came, on the connection that carried
 * their acquires, so Redis always runs a slot's acquire before its release.
 * A release waiting here is not in Redis yet: `unsettled` names them, so the
 * lease refresh does not count them as stray slots.
 */
export class ReleaseBatcher {
  readonly #options: ReleaseBatcherOptions
  #queue: Release[] = []
  /** Batches sent and not answered yet. */
  readonly #sent = new Set<Release[]>()
  #scheduled = false

  constructor (options: ReleaseBatcherOptions) {
    this.#options = options
  }

  add (connectionId: string, userId: string): void {
    this.#queue.push([connectionId, userId])
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      this.#flush()
    })
  }

  /** The connection ids of the releases waiting to be sent or answered. */
  * unsettled (): Iterable<string> {
    for (const [connectionId] of this.#queue) yield connectionId
    for (const batch of this.#sent) for (const [connectionId] of batch) yield connectionId
  }

  /** How many releases are waiting to be sent or answered. */
  get size (): number {
    let size = this.#queue.length
    for (const batch of this.#sent) size += batch.length
    return size
  }

  #flush (): void {
    const queue = this.#queue
    this.#queue = []
    for (let i = 0; i < queue.length; i += this.#options.maxBatch) {
      const batch = queue.slice(i, i + this.#options.maxBatch)
      this.#sent.add(batch)
      // Out of `sent` before `failed` hands the batch on: never counted twice.
      this.#options.send(batch).then(() => {
        this.#sent.delete(batch)
      }, () => {
        this.#sent.delete(batch)
        this.#options.failed(batch)
      }).catch(() => {})
    }
  }
}
