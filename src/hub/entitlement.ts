import type { SequencedMessage } from '../protocol/messages.js'
import type { Subscription } from './subscription.js'

/** What deciding needs of a connection: whose it is and what it subscribed to. */
export interface Recipient {
  readonly connection: { readonly userId: string }
  readonly subscription: Subscription
}

/**
 * Whether a connection may receive a camera event or alert: an alert with a
 * `user_id` is for that user alone, and the connection's subscription must
 * want it. The one rule for live fan-out and for resume replays alike.
 */
export function mayReceive (recipient: Recipient, message: SequencedMessage): boolean {
  if (message.type === 'alert' && message.user_id !== undefined && message.user_id !== recipient.connection.userId) return false
  return recipient.subscription.wants(message)
}
