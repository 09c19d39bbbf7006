import type { CameraScope } from '../protocol/camera-scope.js'
import type { SequencedMessage } from '../protocol/messages.js'
import type { Subscription } from './subscription.js'

/** What deciding needs of a connection: whose it is, which cameras its token admits, what it subscribed to. */
export interface Recipient {
  readonly connection: { readonly userId: string }
  readonly scope: CameraScope
  readonly subscription: Subscription
}

/**
 * Whether a connection may receive a camera event or alert: an alert with a
 * `user_id` is for that user alone, a message with a `camera_id` only for
 * tokens whose `cameras` claim admits that camera, and the connection's
 * subscription must want it. The one rule for live fan-out and for resume
 * replays alike, so a scope holds in both. Whatever the message, the frame
 * is the same for every recipient: this decides who gets it, never what.
 */
export function mayReceive (recipient: Recipient, message: SequencedMessage): boolean {
  if (message.type === 'alert' && message.user_id !== undefined && message.user_id !== recipient.connection.userId) return false
  // Unscoped connections (every token without a claim) stop at one field read.
  const scope = recipient.scope
  if (!scope.all && message.camera_id !== undefined && !scope.admits(message.camera_id)) return false
  return recipient.subscription.wants(message)
}
