import type { Redis } from 'ioredis'
import type { History } from '../../history/history.js'
import { frameOf, parsePayload } from '../../protocol/frame-cache.js'
import type { SequencedMessage } from '../../protocol/messages.js'
import { Keys } from './keys.js'
import { historyAppendScript, historySinceScript } from './scripts.js'

/**
 * Messages Redis keeps at least, whatever RESUME_HISTORY says: the bus of
 * an instance whose subscription dropped reads what it missed back from
 * them (resume with RESUME_HISTORY=0 still works that way between instances).
 */
export const MIN_STORED_MESSAGES = 10_000

export interface RedisHistoryOptions {
  client: Redis
  /** The most messages a resume may replay (RESUME_HISTORY); 0 disables resume. */
  maxMessages: number
  /** Messages older than this (by arrival, on Redis's clock) are not replayed (RESUME_WINDOW_MS); unset: no limit. */
  windowMs?: number
}

/**
 * The history shared by every instance: a Redis sorted set scored by `seq`,
 * so a client that reconnects to another instance with `last_seq` still
 * gets what it missed. The cluster bus already appends every message in
 * its publish script; `append` is idempotent (a seq already kept is left
 * alone), so instances that also append each delivered message change
 * nothing. Resume sees what the in-memory history would keep: the newest
 * `maxMessages`, within `windowMs` of their arrival.
 */
export class RedisHistory implements History {
  readonly #client: Redis
  readonly #maxMessages: number
  readonly #windowMs: number

  constructor (options: RedisHistoryOptions) {
    this.#client = options.client
    this.#maxMessages = options.maxMessages
    this.#windowMs = options.windowMs ?? -1
  }

  /** How many messages the sorted set keeps (the bus's publish script trims to it). */
  get storedMessages (): number {
    return Math.max(this.#maxMessages, MIN_STORED_MESSAGES)
  }

  async append (message: SequencedMessage): Promise<void> {
    await historyAppendScript.run(this.#client, [Keys.history, Keys.historyArrivals], [message.seq, frameOf(message).toString('utf8'), this.storedMessages])
  }

  /**
   * Every message resume may replay after `lastSeq`, oldest first; null when
   * messages after `lastSeq` were published but are no longer kept (beyond
   * RESUME_HISTORY or RESUME_WINDOW_MS, trimmed, or lost when Redis restarted
   * without its data), so the client must resync.
   */
  async since (lastSeq: number): Promise<SequencedMessage[] | null> {
    const [, current, ...payloads] = await historySinceScript.run(this.#client,
      [Keys.history, Keys.seq, Keys.historyArrivals], [lastSeq, this.#maxMessages, this.#windowMs]) as [number, number, ...string[]]
    const messages = payloads.map(parsePayload)
    // Nothing kept after lastSeq: fine if nothing was published after it either.
    if (messages.length === 0) return lastSeq >= Number(current) ? [] : null
    // The kept messages must start right after lastSeq, or some are gone.
    if (messages[0].seq !== lastSeq + 1) return null
    return messages
  }
}
