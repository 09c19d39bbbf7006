import type { Redis } from 'ioredis'
import { Channels, Keys } from './keys.js'
import { dropIfHung } from './redis-client.js'
import { historySinceScript, publishScript } from './scripts.js'
import { parsePayload, rememberFrame } from '../../protocol/frame-cache.js'
import { utcDay } from '../../stats/sources/events.js'
import { minuteOf } from '../../stats/sources/minute-series.js'
import { MAX_TRACKED_CAMERAS } from '../../stats/sources/camera-views.js'
import type { SequencedMessage } from '../../protocol/messages.js'
import { PublishUnavailableError, PublishUnconfirmedError } from '../errors.js'
import { deliverToAll, splitAroundSeq, withSeq, type Bus, type BusHandler, type Draft, type Publication } from '../../bus/bus.js'

export { splitAroundSeq }

/** Distinct event types counted by name cluster-wide; the rest are summed under `other`. */
export const MAX_EVENT_TYPES = 256

export interface RedisBusOptions {
  /** For commands; shared with the rest of the instance. */
  client: Redis
  /** A connection of its own: a subscribed Redis connection can do nothing else. */
  subscriber: Redis
  /** How many messages the shared history keeps (see RedisHistory.storedMessages). */
  storedMessages: number
  /** How long an idempotency key is remembered (IDEMPOTENCY_WINDOW_MS); 0 ignores keys. */
  idempotencyWindowMs?: number
  /** Cameras counted one by one for scoped views (default MAX_TRACKED_CAMERAS; smaller in tests). */
  maxTrackedCameras?: number
  logger: { warn (obj: object, msg: string): void }
}

/** How long a catch-up after resubscribing waits for the command connection to be back. */
const CATCH_UP_WAIT_MS = 5000
const CATCH_UP_RETRY_MS = 50

/** How ioredis refuses a command it did not write (offline queue disabled, socket not writable). */
const NOT_WRITTEN = 'Stream isn\'t writeable'

/**
 * The cluster bus: one Lua script gives each message the next global `seq`,
 * keeps it in the shared history and publishes it on a Redis channel, so the
 * channel carries messages in seq order. Every instance subscribes once and
 * hands each message to its handlers exactly once, in seq order: duplicates
 * and older messages are dropped, and messages missed while this instance's
 * subscription was down are read back from the history before newer ones.
 *
 * The publishing instance does not wait for its own message to come back
 * on the channel: when the script's reply says it is the very next seq, it
 * hands it to its handlers at once (the channel copy is then a duplicate and
 * dropped). The reply arrives before that copy, on a connection the event
 * loop is already reading, so the publisher's own connections get the
 * message about a Redis hop sooner; a reply that would skip a seq still
 * waits for the channel, so nothing is reordered.
 *
 * `seq` never goes backwards: the instance remembers the highest seq it has
 * seen and the script raises the counter to it first, so a Redis that
 * restarted with its data lost continues above it (far above: see
 * RAISE_FLOOR, so that no two messages share a seq).
 */
export class RedisBus implements Bus {
  /** One sequence for the whole cluster, kept increasing even across Redis restarts. */
  readonly stream = 'cluster'
  readonly #client: Redis
  readonly #subscriber: Redis
  readonly #storedMessages: number
  readonly #maxTrackedCameras: number
  readonly #idempotencyWindowMs: number
  readonly #logger: RedisBusOptions['logger']
  readonly #handlers = new Set<BusHandler>()
  /** The highest seq this instance has seen (published or received): the floor for the counter. */
  #highest = 0
  /** The highest seq handed to the handlers. */
  #delivered = 0
  #subscribed = false
  #closed = false
  /** Delivery steps run one after another, so catching up never reorders messages. */
  #chain: Promise<void> = Promise.resolve()

  constructor (options: RedisBusOptions) {
    this.#client = options.client
    this.#subscriber = options.subscriber
    this.#storedMessages = options.storedMessages
    this.#maxTrackedCameras = options.maxTrackedCameras ?? MAX_TRACKED_CAMERAS
    this.#idempotencyWindowMs = options.idempotencyWindowMs ?? 0
    this.#logger = options.logger
  }

  /**
   * Subscribes. Messages published from now on are delivered; the counter is
   * read before subscribing and the history read after, so a message
   * published in between is not lost.
   */
  async start (): Promise<void> {
    this.#delivered = Number(await this.#client.get(Keys.seq) ?? 0)
    this.#highest = this.#delivered
    this.#subscriber.on('message', (_channel: string, payload: string) => {
      this.#enqueue(async () => { await this.#receive(payload) })
    })
    this.#subscriber.on('close', () => { this.#subscribed = false })
    this.#subscriber.on('ready', () => {
      this.#subscribe().catch((err: unknown) => {
        this.#logger.warn({ err }, 'could not subscribe to the Redis bus channel; the next reconnection tries again')
      })
    })
    await this.#subscribe()
  }

  /** True when a publish can be accepted and delivered. */
  get available (): boolean {
    return this.#subscribed && this.#client.status === 'ready'
  }

  /** The highest seq seen here; instances push it to Redis as the counter's floor. */
  get highestSeq (): number {
    return this.#highest
  }

  /**
   * @throws {PublishUnavailableError} at once when Redis cannot be reached: nothing was sent.
   * @throws {PublishUnconfirmedError} when the script was sent but not confirmed
   *   (timeout, dropped connection): Redis may still run it.
   */
  async publish (draft: Draft, idempotencyKey?: string): Promise<Publication> {
    if (!this.available) throw new PublishUnavailableError()
    const [head, tail] = splitAroundSeq(draft)
    const at = Date.now()
    const isEvent = draft.type === 'camera_event'
    let recognition = ''
    if (draft.type === 'camera_event' && draft.event_type === 'face_recognized') {
      const name = draft.data.person_name
      recognition = JSON.stringify({ person_name: typeof name === 'string' ? name : null, camera_id: draft.camera_id, timestamp: draft.timestamp })
    }
    const keys = [
      Keys.seq, Keys.history, Keys.eventsTotal, Keys.eventsDay(utcDay(at)), Keys.eventsByType,
      Keys.eventsCameras, Keys.eventsLastRecognition, Keys.historyArrivals,
      Keys.cameraIndex, Keys.cameraTotals, Keys.cameraDay(utcDay(at)), Keys.cameraDayRecognitions(utcDay(at)),
      Keys.cameraTypes, Keys.cameraLastRecognition,
      Keys.eventsMinute(minuteOf(at)), Keys.cameraMinute(minuteOf(at)), Keys.cameraMinuteRecognitions(minuteOf(at))
    ]
    const args: Array<string | number> = [
      this.#highest, head, tail, this.#storedMessages, Channels.messages, isEvent ? '1' : '0', at,
      isEvent ? draft.event_type : '', isEvent ? draft.camera_id : '', recognition, MAX_EVENT_TYPES, this.#maxTrackedCameras
    ]
    if (idempotencyKey !== undefined && this.#idempotencyWindowMs > 0) {
      keys.push(Keys.idempotency(idempotencyKey))
      args.push(this.#idempotencyWindowMs)
    }
    let reply: [number, number]
    try {
      reply = await publishScript.run(this.#client, keys, args) as [number, number]
    } catch (err) {
      dropIfHung(this.#client, err)
      // Refused before it was written (the connection is being dropped): nothing was sent.
      if (err instanceof Error && err.message.startsWith(NOT_WRITTEN)) throw new PublishUnavailableError(err)
      throw new PublishUnconfirmedError(err)
    }
    const seq = Number(reply[0])
    const replayed = Number(reply[1]) === 1
    if (seq > this.#highest) this.#highest = seq
    // The script built the channel payload as head + seq + tail: the same bytes, no need to wait for them.
    if (!replayed && seq === this.#delivered + 1) {
      const message = withSeq(draft, seq)
      rememberFrame(message, Buffer.from(head + String(seq) + tail))
      this.#deliver(message)
    }
    return { seq, replayed }
  }

  onMessage (handler: BusHandler): () => void {
    this.#handlers.add(handler)
    return () => { this.#handlers.delete(handler) }
  }

  async close (): Promise<void> {
    this.#closed = true
    this.#handlers.clear()
    await this.#chain
  }

  async #subscribe (): Promise<void> {
    if (this.#closed || this.#subscribed || this.#subscriber.status !== 'ready') return
    try {
      await this.#subscriber.subscribe(Channels.messages)
    } catch {
      return // the connection dropped again; the next 'ready' retries
    }
    this.#subscribed = true
    this.#enqueue(async () => { await this.#catchUpWhenReady() })
  }

  /**
   * Reads back what was missed while the subscription was down. After an
   * outage the subscription and the command connection reconnect each on
   * its own; when the subscription is back first, the read would fail, and
   * the missed messages would wait for the next one to show the gap (for
   * ever, if none came). So it waits for the command connection, at most
   * CATCH_UP_WAIT_MS; messages that arrive meanwhile wait behind it, in order.
   */
  async #catchUpWhenReady (): Promise<void> {
    const deadline = Date.now() + CATCH_UP_WAIT_MS
    for (;;) {
      if (this.#closed || !this.#subscribed) return
      if (this.#client.status === 'ready') {
        try {
          await this.#catchUp(Infinity)
          return
        } catch (err) {
          if (Date.now() >= deadline) throw err
        }
      } else if (Date.now() >= deadline) {
        throw new Error(`the Redis command connection did not come back within ${CATCH_UP_WAIT_MS} ms of the subscription`)
      }
      await new Promise(resolve => setTimeout(resolve, CATCH_UP_RETRY_MS))
    }
  }

  #enqueue (step: () => Promise<void>): void {
    this.#chain = this.#chain.then(step).catch((err: unknown) => {
      this.#logger.warn({ err }, 'could not read missed messages back from the Redis history; continuing with newer ones')
    })
  }

  async #receive (payload: string): Promise<void> {
    const message = parsePayload(payload)
    if (message.seq <= this.#delivered) return
    // A gap means this instance missed messages (its subscription dropped):
    // read them back from the history first. After Redis lost its data the
    // gap may be a raised floor instead, and the history has nothing for it.
    if (message.seq > this.#delivered + 1) {
      try {
        await this.#catchUp(message.seq)
      } catch (err) {
        this.#logger.warn({ err, seq: message.seq }, 'could not read missed messages back from the Redis history; continuing with newer ones')
      }
      // This instance's own publish may have been delivered from its reply meanwhile.
      if (message.seq <= this.#delivered) return
    }
    this.#deliver(message)
  }

  /** Delivers what the history holds after the last delivered seq and before `before`. */
  async #catchUp (before: number): Promise<void> {
    if (this.#closed) return
    const reply = await historySinceScript.run(this.#client, [Keys.history, Keys.seq], [this.#delivered]) as [number, number, ...string[]]
    for (const payload of reply.slice(2) as string[]) {
      const message = parsePayload(payload)
      if (message.seq >= before) break
      if (message.seq > this.#delivered) this.#deliver(message)
    }
  }

  #deliver (message: SequencedMessage): void {
    this.#delivered = message.seq
    if (message.seq > this.#highest) this.#highest = message.seq
    deliverToAll(this.#handlers, message, (err) => {
      this.#logger.warn({ err, seq: message.seq }, 'a bus handler failed for a received message; the other handlers still got it')
    })
  }
}

