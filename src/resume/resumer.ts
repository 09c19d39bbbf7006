import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'
import type { History } from '../history/history.js'
import type { Member } from '../hub/connection-hub.js'
import { mayReceive } from '../hub/entitlement.js'
import { LiveGate, type Held } from '../hub/live-gate.js'
import { afterPendingIo } from '../net/after-pending-io.js'
import { CloseCode } from '../protocol/close-codes.js'
import { encode, now } from '../protocol/codec.js'
import { frameOf } from '../protocol/frame-cache.js'
import type { SequencedMessage, ServerMessage } from '../protocol/messages.js'

export interface ResumerOptions {
  history: History
  /** The bus's stream: `seq` values from any other stream cannot be resumed from. */
  stream?: string
  /** Live items one member may have waiting while it is gated. */
  holdLimit: number
  /** How long a new connection's live messages wait for a first `resume` message; 0 never waits. */
  graceMs: number
  /** Replayed messages sent per turn of the event loop, so one big replay never blocks the others. */
  sliceSize?: number
  /**
   * A replay waits while the connection has more than this many bytes
   * queued, so a slow reader gets its replay at its own pace rather than
   * tripping the slow-consumer limit (SLOW_CONSUMER_SOFT_BYTES).
   */
  backlogBytes?: number
  /** The newest `statistics_update` frame, sent after a resync. */
  statisticsFrame: (member: Member) => Buffer | null | Promise<Buffer | null>
  /** Whether the member is still connected (a replay stops for a closed one). */
  isOpen: (member: Member) => boolean
  /** Counts frames sent, by message type. */
  onSent?: (type: string, count: number) => void
  /**
   * Reports a replay that failed: `resync` when the history could not be
   * read (the client was told to resync), `closed` when the replay itself
   * failed (the connection was closed with 1011).
   */
  onError?: (member: Member, err: unknown, outcome: 'resync' | 'closed') => void
}

/** The answer to a `resume` that is not the first message of a connection. */
export const RESUME_NOT_FIRST = 'resume must be the first message on a new connection; reconnect with ?last_seq=N or send resume right after connecting'

/**
 * Resume after reconnect. A connection that names its `last_seq` (in the URL
 * or as its first message) gets every missed message it is entitled to, in
 * order, then `connection_status resumed`, then live messages. Live messages
 * wait in the member's gate meanwhile and are released in the same
 * synchronous step that ends the replay, without those the replay covered:
 * nothing twice, nothing out of order.
 *
 * A connection without `last_seq` is gated for `graceMs` (or until its first
 * message), so that a `resume` sent right after connecting still comes
 * before any live message. The grace deadlines are in opening order, so one
 * timer serves them all.
 */
export class Resumer {
  readonly #options: ResumerOptions
  readonly #sliceSize: number
  readonly #backlogBytes: number
  /** Members waiting for a first message → their deadline; insertion order is deadline order. */
  readonly #awaiting = new Map<Member, number>()
  /** Gates whose held messages are being sent. */
  readonly #draining = new WeakSet<LiveGate>()
  #timer: NodeJS.Timeout | null = null

  constructor (options: ResumerOptions) {
    this.#options = options
    this.#sliceSize = options.sliceSize ?? 100
    this.#backlogBytes = options.backlogBytes ?? Number.POSITIVE_INFINITY
  }

  /**
   * Gates a new member. With `lastSeq` the replay starts now; without, the
   * member waits up to `graceMs` for a `resume` message.
   */
  open (member: Member, lastSeq: number | null, stream?: string): void {
    if (lastSeq !== null) {
      this.#gate(member)
      this.#startReplay(member, lastSeq, stream)
      return
    }
    if (this.#options.graceMs <= 0) return
    this.#gate(member)
    this.#awaiting.set(member, Date.now() + this.#options.graceMs)
    this.#schedule()
  }

  /**
   * Offers a client message: a `resume` that is first is taken here ("handled");
   * any other first message releases the waiting live messages and then
   * goes on to its handler ("pass"). A late `resume` gets "late".
   */
  offer (member: Member, message: { type: string, last_seq?: number, stream?: string }): 'handled' | 'pass' | 'late' {
    const waiting = this.#awaiting.delete(member)
    if (message.type === 'resume') {
      if (!waiting) return 'late'
      this.#startReplay(member, message.last_seq ?? 0, message.stream)
      return 'handled'
    }
    if (waiting) this.#release(member, -1)
    return 'pass'
  }

  /** Forgets a closed member. */
  forget (member: Member): void {
    this.#awaiting.delete(member)
    member.gate = null
  }

  /** Stops the grace timer (shutdown). */
  stop (): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    for (const member of this.#awaiting.keys()) this.#release(member, -1)
    this.#awaiting.clear()
  }

  #gate (member: Member): void {
    const gate = new LiveGate({
      limit: this.#options.holdLimit,
      onOverflow: () => {
        // Nobody asked to resume yet: stop waiting and start sending what is
        // held, which makes room (or opens the gate) when the client keeps up.
        if (this.#awaiting.delete(member)) this.#release(member, -1)
        if (gate.isOpen || gate.size < this.#options.holdLimit) return true
        // Live messages pile up faster than the client takes the held ones
        // (a slow replay, or a slow reader): the client resumes again from
        // what it has, with a fresh replay.
        member.connection.close(CloseCode.TRY_AGAIN_LATER, 'resume fell behind: reconnect with last_seq')
        return false
      }
    })
    member.gate = gate
  }

  #schedule (): void {
    if (this.#timer !== null) return
    const first = this.#awaiting.values().next()
    if (first.done === true) return
    // A first message already received but not yet read (this process was
    // busy past the grace) still comes before any live one (see afterPendingIo).
    this.#timer = setTimeout(() => { afterPendingIo(this.#endGraces) }, Math.max(0, first.value - Date.now()))
    this.#timer.unref()
  }

  readonly #endGraces = (): void => {
    this.#timer = null
    const at = Date.now()
    for (const [member, deadline] of this.#awaiting) {
      if (deadline > at) break
      this.#awaiting.delete(member)
      this.#release(member, -1)
    }
    this.#schedule()
  }

  /**
   * Runs a replay. A failure answers that connection alone (close 1011, so
   * its client reconnects and resumes again) and never reaches the process.
   */
  #startReplay (member: Member, lastSeq: number, stream?: string): void {
    this.#replay(member, lastSeq, stream).catch((err: unknown) => {
      this.#options.onError?.(member, err, 'closed')
      try {
        member.connection.close(CloseCode.INTERNAL_ERROR, 'resume failed on the server; reconnect with last_seq')
      } catch {
        member.connection.terminate()
      }
    })
  }

  async #replay (member: Member, lastSeq: number, stream?: string): Promise<void> {
    let missed: SequencedMessage[] | null
    // A seq from another stream (an earlier process) says nothing about
    // this one's numbers: only a resync is safe.
    const sameStream = stream === undefined || stream === this.#options.stream
    try {
      missed = sameStream ? await this.#options.history.since(lastSeq) : null
    } catch (err) {
      this.#options.onError?.(member, err, 'resync')
      missed = null
    }
    if (!this.#options.isOpen(member)) return
    if (missed === null) {
      const why = sameStream
        ? `messages after seq ${lastSeq} are no longer kept; reload the current state`
        : 'the service restarted and its sequence started again; reload the current state'
      this.#send(member, { type: 'connection_status', status: 'resync_required', message: why, timestamp: now() })
      const statistics = await this.#options.statisticsFrame(member)
      if (!this.#options.isOpen(member)) return
      if (statistics !== null) this.#sendFrame(member, statistics, 'statistics_update')
      this.#release(member, -1)
      return
    }
    let replayed = 0
    let inSlice = 0
    for (const message of missed) {
      if (!mayReceive(member, message)) continue
      if (inSlice === this.#sliceSize || member.connection.bufferedAmount > this.#backlogBytes) {
        inSlice = 0
        await nextTurn()
        while (this.#options.isOpen(member) && member.connection.bufferedAmount > this.#backlogBytes) await sleep(10)
        if (!this.#options.isOpen(member)) return
      }
      this.#sendFrame(member, frameOf(message), message.type)
      replayed++
      inSlice++
    }
    this.#send(member, { type: 'connection_status', status: 'resumed', replayed, timestamp: now() })
    // Everything up to the newest message the replay looked at is covered,
    // whether it was sent or not entitled.
    const covered = missed.length > 0 ? missed[missed.length - 1].seq : lastSeq
    this.#release(member, covered)
  }

  /**
   * Sends what the gate held, newer than `coveredSeq`, then opens it. The
   * held messages are a burst the service made (everything published during
   * the grace or the replay), so they are paced like a replay: in slices,
   * waiting while the connection has more than `backlogBytes` queued, and
   * a client that reads is never cut off as a slow consumer for them.
   * Meanwhile the gate stays closed and holds newer live messages behind
   * them; it opens in the same synchronous step that sends the last held
   * one: nothing twice, nothing lost, nothing out of order. Whatever fits
   * goes out now, so a small gate is released at once.
   */
  #release (member: Member, coveredSeq: number): void {
    const gate = member.gate
    if (gate === null || this.#draining.has(gate)) return
    // Live messages up to here reach the member through the replay; the
    // fan-out skips them (with a shared bus they can arrive after it).
    if (coveredSeq > member.resumedThrough) member.resumedThrough = coveredSeq
    this.#draining.add(gate)
    this.#drain(member, gate, coveredSeq).catch((err: unknown) => {
      this.#options.onError?.(member, err, 'closed')
      member.connection.close(CloseCode.INTERNAL_ERROR, 'held messages could not be sent: reconnect with last_seq')
    })
  }

  async #drain (member: Member, gate: LiveGate, coveredSeq: number): Promise<void> {
    // Taken from the gate a slice at a time and sent one by one while the
    // connection has room; what the gate still holds stays behind them.
    let slice: Held[] = []
    let next = 0
    let sentThisTurn = 0
    for (;;) {
      if (member.gate !== gate || !this.#options.isOpen(member)) return
      if (next === slice.length) {
        if (gate.size === 0) {
          gate.open()
          member.gate = null
          return
        }
        if (sentThisTurn >= this.#sliceSize) {
          // One big gate never blocks the others.
          await nextTurn()
          sentThisTurn = 0
        }
        slice = gate.take(this.#sliceSize, coveredSeq)
        next = 0
        continue
      }
      if (member.connection.bufferedAmount > this.#backlogBytes) {
        await nextTurn()
        while (this.#options.isOpen(member) && member.gate === gate && member.connection.bufferedAmount > this.#backlogBytes) await sleep(10)
        sentThisTurn = 0
        continue
      }
      const item = slice[next++]
      if (Buffer.isBuffer(item)) {
        // Broadcast frames are statistics snapshots.
        this.#sendFrame(member, item, 'statistics_update')
      } else {
        this.#sendFrame(member, frameOf(item), item.type)
      }
      sentThisTurn++
    }
  }

  #send (member: Member, message: ServerMessage): void {
    this.#sendFrame(member, encode(message), message.type)
  }

  #sendFrame (member: Member, frame: Buffer, type: string): void {
    member.connection.send(frame)
    this.#options.onSent?.(type, 1)
  }
}
