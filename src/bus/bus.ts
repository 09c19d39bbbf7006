import type { AlertMessage, CameraEventMessage, SequencedMessage } from '../protocol/messages.js'

/** A camera event or alert before the bus has given it its `seq`. */
export type Draft = Omit<CameraEventMessage, 'seq'> | Omit<AlertMessage, 'seq'>

export type BusHandler = (message: SequencedMessage) => void

/** What a publish came to. */
export interface Publication {
  readonly seq: number
  /** True when an earlier publish with the same idempotency key was found: nothing was published again. */
  readonly replayed: boolean
}

/**
 * The fan-out bus between publishers and the connections that receive.
 * The bus owns `seq`: one increasing sequence over every camera event and
 * alert, so it is the bus, not a route, that orders messages. The in-memory
 * bus serves one process; a cluster bus changes nothing above this interface.
 */
export interface Bus {
  /**
   * Names the sequence `seq` belongs to. A `seq` from another stream (an
   * earlier process of an in-memory service) cannot be resumed from: its
   * numbers may be reused.
   */
  readonly stream: string
  /**
   * Gives the draft its `seq` and delivers it to every handler, in `seq`
   * order. With an `idempotencyKey` (already scoped to its publisher), a
   * publish whose key was used within the bus's idempotency window
   * publishes nothing and answers the first one's seq, `replayed: true`.
   */
  publish (draft: Draft, idempotencyKey?: string): Promise<Publication>
  /** Registers a handler for every published message; returns a function that removes it. */
  onMessage (handler: BusHandler): () => void
  close (): Promise<void>
}

/**
 * The draft encoded as the JSON text before and after its `seq`, so the seq
 * can be spliced in without encoding again: `head + seq + tail` is exactly
 * `JSON.stringify(withSeq(draft, seq))`. Encoding happens before a seq is
 * taken, so a draft that cannot be encoded uses up no seq.
 */
export function splitAroundSeq (draft: Draft): [head: string, tail: string] {
  const { type, timestamp, ...rest } = draft
  const head = JSON.stringify({ type, timestamp }).slice(0, -1) + ',"seq":'
  const body = JSON.stringify(rest)
  return [head, body === '{}' ? '}' : ',' + body.slice(1)]
}

/** The draft with its `seq`, placed right after `timestamp` as the protocol shows it. */
export function withSeq (draft: Draft, seq: number): SequencedMessage {
  const { type, timestamp, ...rest } = draft
  return { type, timestamp, seq, ...rest } as SequencedMessage
}

/** Where a bus reports a handler that threw. */
export type HandlerErrorReporter = (err: unknown, message: SequencedMessage) => void

/**
 * Hands a message to every handler. One that throws is reported and the
 * others still run: a failing consumer (the history, a metric) must neither
 * keep the message from the connections nor turn an accepted publish into
 * an error the publisher would retry (and so publish twice).
 */
export function deliverToAll (handlers: Iterable<BusHandler>, message: SequencedMessage, report: HandlerErrorReporter): void {
  for (const handler of handlers) {
    try {
      handler(message)
    } catch (err) {
      report(err, message)
    }
  }
}
