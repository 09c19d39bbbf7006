/**
 * Each connection's outbound queue. Frames pushed during one tick are
 * written with one write at the end of the tick (coalescing), and a socket
 * that does not read is handled without growing the server's memory:
 *
 * - below `softBytes` of unsent bytes in the socket everything is written;
 * - above it the queue holds frames back until the socket drains, and a
 *   newer statistics snapshot replaces the pending one;
 * - when the socket and the queue together exceed `hardBytes`, the queue
 *   is dropped and the connection closed (1013 `slow consumer`): camera
 *   events and alerts are never dropped silently, the client reconnects
 *   and resumes from its last `seq`.
 *
 * Knows nothing of ws: the transport provides a Sink.
 */

/** What the queue writes to: the transport's socket. */
export interface Sink {
  /** Writes bytes to the network (or the socket's own buffer). */
  write (bytes: Buffer): void
  /** Bytes accepted by `write` and not yet handed to the kernel. */
  readonly writableLength: number
  /** Calls `callback` once the socket's buffer has drained. */
  onceDrain (callback: () => void): void
  /** Closes the connection because it cannot keep up (1013 `slow consumer`). */
  closeSlow (): void
  /** Whether the connection still accepts data frames. */
  readonly open: boolean
}

export interface OutboundLimits {
  /** Above this many unsent bytes, hold frames back and supersede snapshots. */
  softBytes: number
  /** Above this many unsent and held bytes, close the connection. */
  hardBytes: number
}

/** Counts kept on the hub for status and metrics. */
export interface OutboundCounters {
  /** Frames that went out inside another frame's write. */
  coalesced: number
  /** Statistics snapshots replaced by a newer one before they were written. */
  superseded: number
  /** Connections closed with 1013 because they stopped reading. */
  slowConsumerClosed: number
}

export function newCounters (): OutboundCounters {
  return { coalesced: 0, superseded: 0, slowConsumerClosed: 0 }
}

export const DEFAULT_LIMITS: OutboundLimits = { softBytes: 1024 * 1024, hardBytes: 8 * 1024 * 1024 }

// Queues with frames due this tick, flushed together after the current
// callback (one process.nextTick per tick, not one per connection).
let dirty: OutboundQueue[] = []
let flushScheduled = false

function flushDirty (): void {
  // Frames pushed while flushing (none today, but a sink may call back) go to the next round.
  const queues = dirty
  dirty = []
  flushScheduled = false
  for (let i = 0; i < queues.length; i++) queues[i].flush()
}

export class OutboundQueue {
  readonly #sink: Sink
  readonly #limits: OutboundLimits
  readonly #counters: OutboundCounters
  // The common case is one frame per tick: it needs no array.
  #single: Buffer | undefined = undefined
  #many: Buffer[] | null = null
  #bytes = 0
  /** Index in #many (or -1 for #single) of the pending snapshot while held back, else undefined. */
  #snapshotAt: number | undefined = undefined
  #scheduled = false
  #holding = false
  #closed = false

  constructor (sink: Sink, limits: OutboundLimits, counters: OutboundCounters) {
    this.#sink = sink
    this.#limits = limits
    this.#counters = counters
  }

  /** Bytes held in this queue, not yet written to the socket. */
  get pendingBytes (): number {
    return this.#bytes
  }

  /** Queues wire bytes; `supersedable` marks a statistics snapshot. */
  push (bytes: Buffer, supersedable: boolean): void {
    if (this.#closed) return
    if (supersedable && this.#holding && this.#snapshotAt !== undefined) {
      // A held-back snapshot is stale the moment a newer one exists.
      this.#replaceSnapshot(bytes)
      return
    }
    if (this.#single === undefined && this.#many === null) {
      this.#single = bytes
      if (supersedable) this.#snapshotAt = -1
    } else {
      if (this.#many === null) {
        this.#many = [this.#single!]
        this.#single = undefined
        if (this.#snapshotAt === -1) this.#snapshotAt = 0
      }
      if (supersedable) this.#snapshotAt = this.#many.length
      this.#many.push(bytes)
    }
    this.#bytes += bytes.length
    if (this.#holding) {
      if (this.#bytes + this.#sink.writableLength > this.#limits.hardBytes) this.#overflow()
      return
    }
    if (!this.#scheduled) {
      this.#scheduled = true
      dirty.push(this)
      if (!flushScheduled) {
        flushScheduled = true
        process.nextTick(flushDirty)
      }
    }
  }

  #replaceSnapshot (bytes: Buffer): void {
    const at = this.#snapshotAt!
    if (at === -1) {
      this.#bytes += bytes.length - this.#single!.length
      this.#single = bytes
    } else {
      this.#bytes += bytes.length - this.#many![at].length
      this.#many![at] = bytes
    }
    this.#counters.superseded++
  }

  /** Writes what is pending in one write, unless the socket is backed up. */
  flush (): void {
    this.#scheduled = false
    if (this.#closed || (this.#single === undefined && this.#many === null)) return
    if (!this.#sink.open) {
      this.#clear()
      return
    }
    if (this.#sink.writableLength >= this.#limits.softBytes) {
      this.#hold()
      return
    }
    if (this.#single !== undefined) {
      this.#sink.write(this.#single)
    } else {
      const many = this.#many!
      this.#sink.write(many.length === 1 ? many[0] : Buffer.concat(many, this.#bytes))
      this.#counters.coalesced += many.length - 1
    }
    this.#clear()
  }

  #hold (): void {
    if (this.#holding) return
    this.#holding = true
    this.#sink.onceDrain(() => {
      this.#holding = false
      this.flush()
    })
    if (this.#bytes + this.#sink.writableLength > this.#limits.hardBytes) this.#overflow()
  }

  #clear (): void {
    this.#single = undefined
    this.#many = null
    this.#bytes = 0
    this.#snapshotAt = undefined
  }

  #overflow (): void {
    this.#closed = true
    this.#clear()
    this.#counters.slowConsumerClosed++
    this.#sink.closeSlow()
  }

  /** Drops what is pending (the connection is closing). */
  discard (): void {
    this.#closed = true
    this.#clear()
  }
}
