import { afterPendingIo } from '../../net/after-pending-io.js'
import type { AcquireResult } from '../slot-limiter.js'

/** One handshake waiting for its slot. */
export class PendingAcquire {
  readonly userId: string
  readonly connectionId: string
  /** When the handshake stops waiting, on this process's clock (ms). */
  readonly deadline: number
  #resolve: ((result: AcquireResult) => void) | null
  readonly #timer: NodeJS.Timeout

  constructor (userId: string, connectionId: string, timeoutMs: number, resolve: (result: AcquireResult) => void) {
    this.userId = userId
    this.connectionId = connectionId
    this.deadline = Date.now() + timeoutMs
    this.#resolve = resolve
    // An answer that reached the socket while this process was too busy to
    // read it still counts: Redis admitted the handshake in time.
    this.#timer = setTimeout(() => { afterPendingIo(() => { this.answer({ ok: false, reason: 'busy' }) }) }, timeoutMs)
  }

  /** True until the handshake got its answer (a result, or `busy` at its deadline). */
  get waiting (): boolean {
    return this.#resolve !== null
  }

  /** Answers the handshake; false when it had already been answered (it gave up waiting). */
  answer (result: AcquireResult): boolean {
    const resolve = this.#resolve
    if (resolve === null) return false
    this.#resolve = null
    clearTimeout(this.#timer)
    resolve(result)
    return true
  }
}

export interface AcquireBatcherOptions {
  /** How long a handshake waits for its slot before it is refused as `busy`. */
  timeoutMs: number
  /**
   * Acquires waiting behind calls in flight, at most; more are refused as
   * `busy` at once. Acquires held back by the linger while a call could go
   * out are not counted: they leave within `lingerMs`, and a full batch
   * leaves at once, so they are at most `maxBatch`.
   */
  maxQueued: number
  /** Acquires per script call, at most. */
  maxBatch: number
  /** Script calls in flight, at most: the rest wait here, where their age is known. */
  maxInFlight: number
  /**
   * While handshakes keep coming, at most one call per this many ms: an
   * acquire that arrives sooner after the last call waits for the rest of
   * the interval (never longer), so calls carry more acquires each. The
   * first acquire after a quiet spell goes out at once.
   */
  lingerMs: number
  /** Runs one batch: answers every acquire in it that still waits. Never rejects. */
  send: (batch: PendingAcquire[]) => Promise<void>
}

/**
 * Gathers the slot acquires of concurrent handshakes into batches: those
 * that arrive in one turn of the event loop (setImmediate) go to Redis in
 * one script call; while handshakes keep coming, at most one call goes out
 * per `lingerMs`, and while calls are in flight new ones gather for the
 * next. An idle instance thus sends each acquire at once, and a busy one
 * sends fewer, larger calls: the Redis commands per handshake fall as the
 * load rises, instead of queueing up in front of Redis. Each call costs a
 * write, a wake-up of redis-server and a reply to parse whatever it
 * carries; at 1,500 handshakes/s per worker, calls of 3 or 4 acquires cost
 * ~70 µs of CPU per handshake between the worker and Redis, calls of ~15
 * (a 5 ms linger) ~35 µs, for at most 5 ms more per handshake.
 *
 * This is also where load is shed when Redis is slow: the queue is bounded
 * (`maxQueued`) and every acquire has a deadline (`timeoutMs`), after which
 * its handshake is refused as `busy`, retryable. One refused while still
 * queued was never sent and leaves nothing in Redis; one already sent is the
 * sender's to settle when its answer comes.
 */
export class AcquireBatcher {
  readonly #options: AcquireBatcherOptions
  #queue: PendingAcquire[] = []
  #inFlight = 0
  #scheduled = false
  /** The linger's timer while one is pending: a batch that fills up goes without waiting for it. */
  #lingerTimer: NodeJS.Timeout | null = null
  /** When the last call was sent (performance.now()). */
  #lastSent = -Infinity

  constructor (options: AcquireBatcherOptions) {
    this.#options = options
  }

  /**
   * True when a new acquire would be refused at once: every call is in
   * flight and `maxQueued` acquires wait behind them. While a call may still
   * go out the queue is only lingering, and a refusal then would turn
   * handshakes away from a Redis that is keeping up (up to `maxBatch` more
   * are taken; a full batch is sent at once).
   */
  get full (): boolean {
    const lingering = this.#inFlight < this.#options.maxInFlight ? this.#options.maxBatch : 0
    return this.#queue.length >= this.#options.maxQueued + lingering
  }

  /** Acquires waiting to be sent (including ones that gave up, until the next batch skips them). */
  get queued (): number {
    return this.#queue.length
  }

  async submit (userId: string, connectionId: string): Promise<AcquireResult> {
    if (this.full) return { ok: false, reason: 'busy' }
    return await new Promise<AcquireResult>(resolve => {
      this.#queue.push(new PendingAcquire(userId, connectionId, this.#options.timeoutMs, resolve))
      this.#schedule()
    })
  }

  #schedule (): void {
    if (this.#inFlight >= this.#options.maxInFlight || this.#queue.length === 0) return
    if (this.#scheduled) {
      // Lingering with a full batch: nothing more to gather, send it now.
      if (this.#lingerTimer !== null && this.#queue.length >= this.#options.maxBatch) {
        clearTimeout(this.#lingerTimer)
        this.#lingerTimer = null
        setImmediate(this.#run)
      }
      return
    }
    this.#scheduled = true
    const wait = this.#lastSent + this.#options.lingerMs - performance.now()
    if (wait > 0 && this.#queue.length < this.#options.maxBatch) this.#lingerTimer = setTimeout(this.#run, wait)
    else setImmediate(this.#run)
  }

  readonly #run = (): void => {
    this.#scheduled = false
    this.#lingerTimer = null
    this.#flush()
  }

  #flush (): void {
    while (this.#inFlight < this.#options.maxInFlight && this.#queue.length > 0) {
      const batch: PendingAcquire[] = []
      let taken = 0
      // Acquires that gave up while queued were never sent: they are skipped.
      while (taken < this.#queue.length && batch.length < this.#options.maxBatch) {
        const pending = this.#queue[taken++]
        if (pending.waiting) batch.push(pending)
      }
      this.#queue = this.#queue.slice(taken)
      if (batch.length === 0) continue
      this.#inFlight++
      this.#lastSent = performance.now()
      this.#options.send(batch).catch(() => {}).finally(() => {
        this.#inFlight--
        this.#schedule()
      })
    }
  }
}
