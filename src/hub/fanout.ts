import type { SequencedMessage } from '../protocol/messages.js'
import type { Member } from './connection-hub.js'
import { OutboundFrame } from './outbound-frame.js'

/** One message to fan out. */
export interface FanoutJob {
  readonly frame: OutboundFrame
  /** The sequenced message, checked against each subscription; null for a message every connection gets. */
  readonly message: SequencedMessage | null
  /** Only this user's connections; undefined for everyone. */
  readonly userId: string | undefined
  /** Members that joined at or after this epoch do not get the message (they joined after it was published). */
  readonly epoch: number
}

export interface FanoutSource {
  /** Every member, live: a Map/Set iterator sees removals and additions made between slices. */
  all (): Iterator<Member>
  /** One user's members, live. */
  ofUser (userId: string): Iterator<Member>
}

/** How many consecutive messages at most go out in one pass (and one write per client). */
const MAX_BATCH = 256

/**
 * Fans messages out in slices of `sliceSize` connections, yielding to the
 * event loop between slices, so that a fan-out to many thousands of
 * connections never blocks pings, handshakes or publishes for its whole
 * duration.
 *
 * Ordering: messages go out in the order they were enqueued; a pass covers
 * one batch of consecutive messages and finishes for every member before
 * the next pass starts, so a later message never overtakes an earlier one
 * on any connection. Messages enqueued while a pass runs wait and go out
 * together in the next pass: a client that wants all of them gets one
 * combined frame (one write), built once for everyone.
 *
 * Membership: a member gets exactly the messages enqueued after it joined
 * (epoch check) and that were still unsent to it when it left (the live
 * iterators skip removed members).
 */
export class Fanout {
  readonly #source: FanoutSource
  readonly #sliceSize: number
  readonly #queue: FanoutJob[] = []
  #batch: FanoutJob[] = []
  #combined: OutboundFrame | null = null
  #targets: Iterator<Member> | null = null
  #running = false
  readonly #step = (): void => { this.#run() }
  #idle: Array<() => void> = []
  onError: (err: unknown, member: Member) => void = () => {}

  constructor (source: FanoutSource, sliceSize: number) {
    this.#source = source
    this.#sliceSize = sliceSize
  }

  /** Messages waiting or in progress. */
  get backlog (): number {
    return this.#queue.length + this.#batch.length
  }

  /** Resolves once every message enqueued so far has been handed to its connections. */
  async idle (): Promise<void> {
    if (!this.#running) return
    await new Promise<void>(resolve => this.#idle.push(resolve))
  }

  /** Queues a message; the first slice runs at once when nothing else is in progress. */
  enqueue (job: FanoutJob): void {
    this.#queue.push(job)
    if (!this.#running) {
      this.#running = true
      this.#run()
    }
  }

  #nextBatch (): boolean {
    if (this.#queue.length === 0) return false
    const first = this.#queue[0]
    let count = 1
    if (first.userId === undefined) {
      while (count < this.#queue.length && count < MAX_BATCH && this.#queue[count].userId === undefined) count++
    }
    this.#batch = this.#queue.splice(0, count)
    this.#combined = null
    this.#targets = first.userId === undefined ? this.#source.all() : this.#source.ofUser(first.userId)
    return true
  }

  #run (): void {
    let budget = this.#sliceSize
    for (;;) {
      if (this.#targets === null && !this.#nextBatch()) {
        this.#running = false
        this.#batch = []
        for (const resolve of this.#idle.splice(0)) resolve()
        return
      }
      const targets = this.#targets!
      const batch = this.#batch
      while (budget > 0) {
        const next = targets.next()
        if (next.done === true) {
          this.#targets = null
          break
        }
        budget--
        const member = next.value
        try {
          if (batch.length === 1) this.#sendOne(member, batch[0])
          else this.#sendBatch(member, batch)
        } catch (err) {
          // One broken connection must not stop the others' delivery.
          this.onError(err, member)
        }
      }
      if (budget === 0 && (this.#targets !== null || this.#queue.length > 0)) {
        setImmediate(this.#step)
        return
      }
    }
  }

  #sendOne (member: Member, job: FanoutJob): void {
    if (member.since >= job.epoch) return
    if (job.message !== null && !member.subscription.wants(job.message)) return
    send(member, job.frame)
  }

  #sendBatch (member: Member, batch: FanoutJob[]): void {
    let wanted = 0
    for (let i = 0; i < batch.length; i++) {
      const job = batch[i]
      if (member.since < job.epoch && (job.message === null || member.subscription.wants(job.message))) wanted++
    }
    if (wanted === 0) return
    if (wanted === batch.length) {
      send(member, this.#combined ??= OutboundFrame.combine(batch.map(job => job.frame)))
      return
    }
    // Wants some: each goes out on its own; the connection's queue still
    // writes them together at the end of the tick.
    for (let i = 0; i < batch.length; i++) this.#sendOne(member, batch[i])
  }
}

function send (member: Member, frame: OutboundFrame): void {
  const connection = member.connection
  if (connection.sendShared !== undefined) connection.sendShared(frame)
  else if (frame.parts === null) connection.send(frame.payload)
  else for (const part of frame.parts) connection.send(part.payload)
}
