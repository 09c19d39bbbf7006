import { randomUUID } from 'node:crypto'
import { rememberFrame } from '../protocol/frame-cache.js'
import { deliverToAll, splitAroundSeq, withSeq, type Bus, type BusHandler, type Draft, type HandlerErrorReporter, type Publication } from './bus.js'
import { IdempotencyKeys } from './idempotency.js'

export interface MemoryBusOptions {
  /** How long an idempotency key is remembered (IDEMPOTENCY_WINDOW_MS); 0 ignores keys. */
  idempotencyWindowMs?: number
  /** The most keys remembered at once (tests lower it). */
  maxIdempotencyKeys?: number
  /** Where a handler that threw is reported. */
  logger?: { error (obj: object, msg: string): void }
}

/** The in-process bus: `seq` is a counter, delivery is a synchronous call. */
export class MemoryBus implements Bus {
  /** A new sequence per process: `seq` starts at 1 again after a restart. */
  readonly stream = randomUUID()
  #seq = 0
  readonly #handlers = new Set<BusHandler>()
  readonly #keys: IdempotencyKeys
  readonly #report: HandlerErrorReporter

  constructor (options: MemoryBusOptions = {}) {
    const logger = options.logger ?? { error: (obj: object, msg: string) => { console.error(msg, obj) } }
    this.#report = (err, message) => { logger.error({ err, seq: message.seq }, 'a bus handler failed for a published message; the other handlers still got it') }
    this.#keys = new IdempotencyKeys({ windowMs: options.idempotencyWindowMs ?? 0, maxKeys: options.maxIdempotencyKeys })
  }

  async publish (draft: Draft, idempotencyKey?: string): Promise<Publication> {
    return await this.#keys.once(idempotencyKey, async () => this.#publish(draft))
  }

  #publish (draft: Draft): number {
    // Encoded once, here, whether or not anyone listens: every handler
    // (fan-out, history, a later replay) sends these bytes.
    const [head, tail] = splitAroundSeq(draft)
    const seq = ++this.#seq
    const message = withSeq(draft, seq)
    rememberFrame(message, Buffer.from(head + String(seq) + tail))
    deliverToAll(this.#handlers, message, this.#report)
    return seq
  }

  onMessage (handler: BusHandler): () => void {
    this.#handlers.add(handler)
    return () => { this.#handlers.delete(handler) }
  }

  async close (): Promise<void> {
    this.#handlers.clear()
  }
}
