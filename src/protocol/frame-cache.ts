import { encode } from './codec.js'
import type { SequencedMessage } from './messages.js'

/**
 * The one encoding of each camera event and alert. The bus stores it here
 * when it publishes (before any handler runs, whether or not anyone is
 * listening; in Redis mode it is the payload the channel or the history
 * carried), and the fan-out, the resume replay and the history all send
 * these same bytes: a message is never encoded twice, and never encoded
 * later in a path (a replay) where a failure would be harder to answer.
 * Keyed weakly by the message object, so it lives exactly as long as the
 * message does.
 */
const frames = new WeakMap<SequencedMessage, Buffer>()

/** Records the encoding of a message the bus just published or received. */
export function rememberFrame (message: SequencedMessage, frame: Buffer): void {
  frames.set(message, frame)
}

/** The message's encoding; a message that did not come from a bus is encoded now, once. */
export function frameOf (message: SequencedMessage): Buffer {
  let frame = frames.get(message)
  if (frame === undefined) {
    frame = encode(message)
    frames.set(message, frame)
  }
  return frame
}

/**
 * A message read from Redis (the channel or the history). Its payload is
 * already its encoding (the publish script built it), so it is kept as the
 * frame every connection gets: nothing is encoded again on this instance.
 */
export function parsePayload (payload: string): SequencedMessage {
  const message = JSON.parse(payload) as SequencedMessage
  frames.set(message, Buffer.from(payload))
  return message
}
