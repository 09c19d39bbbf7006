import { randomUUID } from 'node:crypto'
import type { SequencedMessage } from '../protocol/messages.js'
import { withSeq, type Bus, type BusHandler, type Draft } from './bus.js'

/** The in-process bus: `seq` is a counter, delivery is a synchronous call. */
export class MemoryBus implements Bus {
  /** A new sequence per process: `seq` starts at 1 again after a restart. */
  readonly stream = randomUUID()
  #seq = 0
  readonly #handlers = new Set<BusHandler>()

  async publish (draft: Draft): Promise<SequencedMessage> {
    const message = withSeq(draft, ++this.#seq)
    for (const handler of this.#handlers) handler(message)
    return message
  }

  onMessage (handler: BusHandler): () => void {
    this.#handlers.add(handler)
    return () => { this.#handlers.delete(handler) }
  }

  async close (): Promise<void> {
    this.#handlers.clear()
  }
}
