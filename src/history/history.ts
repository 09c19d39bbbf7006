import type { SequencedMessage } from '../protocol/messages.js'

/**
 * Recent camera events and alerts, kept so that a client that reconnects with
 * `last_seq` gets what it missed. Bounded in count and age; the in-memory
 * history serves one process, a shared one serves a cluster.
 */
export interface History {
  /** Records a published message (called in `seq` order). */
  append (message: SequencedMessage): void | Promise<void>
  /**
   * Every kept message with `seq > lastSeq`, oldest first; `null` when
   * `lastSeq` is older than what is kept (the client must resync).
   */
  since (lastSeq: number): Promise<SequencedMessage[] | null>
}
