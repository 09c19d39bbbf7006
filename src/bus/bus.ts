import type { AlertMessage, CameraEventMessage, SequencedMessage } from '../protocol/messages.js'

/** A camera event or alert before the bus has given it its `seq`. */
export type Draft = Omit<CameraEventMessage, 'seq'> | Omit<AlertMessage, 'seq'>

export type BusHandler = (message: SequencedMessage) => void

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
  /** Gives the draft its `seq` and delivers it to every handler, in `seq` order. */
  publish (draft: Draft): Promise<SequencedMessage>
  /** Registers a handler for every published message; returns a function that removes it. */
  onMessage (handler: BusHandler): () => void
  close (): Promise<void>
}

/** The draft with its `seq`, placed right after `timestamp` as the protocol shows it. */
export function withSeq (draft: Draft, seq: number): SequencedMessage {
  const { type, timestamp, ...rest } = draft
  return { type, timestamp, seq, ...rest } as SequencedMessage
}
