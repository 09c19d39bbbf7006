import type { SequencedMessage } from '../protocol/messages.js'
import { mayReceive, type Recipient } from './entitlement.js'
import type { LiveGate } from './live-gate.js'
import { OutboundFrame } from './outbound-frame.js'

/**
 * What the fan-out needs of a hub member (connection-hub.ts's Member); its
 * own shape, so that the hub and the fan-out do not import each other.
 */
export interface Member extends Recipient {
  readonly connection: Recipient['connection'] & {
    send (frame: Buffer): void
    sendShared? (frame: OutboundFrame): void
    terminate (): void
  }
  /** The hub's epoch when it joined. */
  readonly since: number
  /** The newest `seq` a resume replay covered. */
  readonly resumedThrough: number
  /** While set, live messages wait in the gate. */
  readonly gate: LiveGate | null
}

/** One message to fan out. */
export interface FanoutJob {
  readonly frame: OutboundFrame
  /** The sequenced message, checked against each subscription; null for a message every connection gets. */
  readonly message: SequencedMessage | null
  /** Only this user's connections; undefined for everyone. */
  readonly userId: string | undefined
  /** Members that joined at or after this epoch do not get the message (they joined after it was published). */
  readonly epoch: number
  /** The message type, for reports. */
  readonly type: string
  /** Only members whose scope key it accepts (one statistics view); undefined for every member. */
  readonly forScope?: (key: string) => boolean
}

/** What one fanned-out message came to, for metrics. */
export interface FanoutReport {
  readonly type: string
  /** Connections it was handed to. */
  readonly recipients: number
  /** From enqueue to the last connection, in seconds. */
  readonly seconds: number
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
  /** Called once per message when its fan-out is complete; left unset, nothing is counted. */
  onDone: ((report: FanoutReport) => void) | null = null
  /** Per message of the current batch: connections handed to so far (only when `onDone` is set). */
  #sent: number[] = []
  #batchStarted: number[] = []
  readonly #enqueuedAt = new WeakMap<FanoutJob, number>()

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
    if (this.onDone !== null) this.#enqueuedAt.set(job, performance.now())
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
    if (this.onDone !== null) this.#sent = new Array<number>(count).fill(0)
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
          this.#report()
          break
        }
        budget--
        const member = next.value
        try {
          if (batch.length === 1) this.#sendOne(member, batch[0], 0)
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

  #report (): void {
    const onDone = this.onDone
    if (onDone === null) return
    const at = performance.now()
    this.#batch.forEach((job, i) => {
      const started = this.#enqueuedAt.get(job) ?? at
      onDone({ type: job.type, recipients: this.#sent[i], seconds: (at - started) / 1000 })
    })
  }

  /** Whether a member is to get a job: joined before it, was not already given it by a resume replay, and may receive it. */
  #admits (member: Member, job: FanoutJob): boolean {
    if (member.since >= job.epoch) return false
    if (job.forScope !== undefined && !job.forScope(member.scope.key)) return false
    const message = job.message
    if (message === null) return true
    return message.seq > member.resumedThrough && mayReceive(member, message)
  }

  #sendOne (member: Member, job: FanoutJob, index: number): void {
    if (!this.#admits(member, job)) return
    // A member being resumed holds live messages until its replay is done.
    if (member.gate !== null && member.gate.hold(job.message ?? job.frame.payload)) return
    send(member, job.frame)
    if (this.onDone !== null) this.#sent[index]++
  }

  #sendBatch (member: Member, batch: FanoutJob[]): void {
    let wanted = 0
    if (member.gate === null) {
      for (let i = 0; i < batch.length; i++) if (this.#admits(member, batch[i])) wanted++
      if (wanted === 0) return
    }
    if (wanted === batch.length) {
      send(member, this.#combined ??= OutboundFrame.combine(batch.map(job => job.frame)))
      if (this.onDone !== null) for (let i = 0; i < batch.length; i++) this.#sent[i]++
      return
    }
    // Wants some (or is gated): each goes out on its own; the connection's
    // queue still writes them together at the end of the tick.
    for (let i = 0; i < batch.length; i++) this.#sendOne(member, batch[i], i)
  }
}

function send (member: Member, frame: OutboundFrame): void {
  const connection = member.connection
  if (connection.sendShared !== undefined) connection.sendShared(frame)
  else if (frame.parts === null) connection.send(frame.payload)
  else for (const part of frame.parts) connection.send(part.payload)
}
