import type { Redis } from 'ioredis'
import { Keys } from './keys.js'
import { historyAppendScript, historySinceScript } from './scripts.js'
import { frameOf, parsePayload } from '../../protocol/frame-cache.js'
import type { SequencedMessage } from '../../protocol/messages.js'
import type { History } from '../../history/history.js'

export interface RedisHistoryOptions {
  client: Redis
  /** How many messages are kept (the oldest are dropped first). */
  maxMessages: number
}

/**
 * The history shared by every instance: a Redis sorted set scored by `seq`,
 * so a client that reconnects to another instance with `last_seq` still
 * gets what it missed. The cluster bus already appends every message in
 * its publish script; `append` is idempotent (a seq already kept is left
 * alone), so instances that also append each delivered message change
 * nothing.
 */
export class RedisHistory implements History {
  readonly #client: Redis
  readonly #maxMessages: number

  constructor (options: RedisHistoryOptions) {
    this.#client = options.client
    this.#maxMessages = options.maxMessages
  }

  async append (message: SequencedMessage): Promise<void> {
    await historyAppendScript.run(this.#client, [Keys.history], [message.seq, frameOf(message).toString('utf8'), this.#maxMessages])
  }

  /**
   * Every kept message after `lastSeq`, oldest first; null when messages
   * after `lastSeq` were published but are no longer kept (trimmed, or lost
   * when Redis restarted without its data), so the client must resync.
   */
  async since (lastSeq: number): Promise<SequencedMessage[] | null> {
    const [, current, ...payloads] = await historySinceScript.run(this.#client, [Keys.history, Keys.seq], [lastSeq]) as [number, number, ...string[]]
    const messages = payloads.map(parsePayload)
    // Nothing kept after lastSeq: fine if nothing was published after it either.
    if (messages.length === 0) return lastSeq >= Number(current) ? [] : null
    // The kept messages must start right after lastSeq, or some are gone.
    if (messages[0].seq !== lastSeq + 1) return null
    return messages
  }
}
