import type { Member } from '../hub/connection-hub.js'
import { now } from '../protocol/codec.js'
import type { AuthMessage, ClientMessage } from '../protocol/messages.js'
import { send, sendError, type SessionContext } from './context.js'

/** Answers one parsed client message (a resume is taken by the resumer before this). */
export function handleMessage (ctx: SessionContext, member: Member, message: ClientMessage): void {
  switch (message.type) {
    case 'ping':
      send(ctx, member, { type: 'pong', timestamp: now(), echo: message.timestamp ?? null })
      return
    case 'auth':
      refreshToken(ctx, member, message)
      return
    case 'resume':
      // Taken by the resumer when first; never reaches here otherwise.
      return
    case 'subscribe': {
      const applied = member.subscription.subscribe(message.event_types, message.camera_ids, ctx.maxCameraIds)
      if (!applied.ok) {
        sendError(ctx, member, 'too_many_cameras', `subscribe refused: it would hold ${applied.wouldHold} camera ids, more than MAX_CAMERA_IDS=${ctx.maxCameraIds} per connection; nothing was changed (you hold ${member.subscription.cameraCount}). Unsubscribe cameras first, or send camera_ids: null for every camera`)
        return
      }
      break
    }
    case 'unsubscribe':
      member.subscription.unsubscribe(message.event_types, message.camera_ids)
      break
  }
  send(ctx, member, { type: 'subscribed', ...member.subscription.toJSON(), timestamp: now() })
}

/** A fresh token for an open connection: same user, valid signature, or the old expiry stands. */
export function refreshToken (ctx: SessionContext, member: Member, message: AuthMessage): void {
  const verified = ctx.verifyToken(message.token)
  if (!verified.ok) {
    sendError(ctx, member, 'invalid_token', `token refused (${verified.reason}); the current token still expires as announced`)
    return
  }
  if (verified.principal.userId !== member.connection.userId) {
    sendError(ctx, member, 'invalid_token', 'token refused: its sub is another user; a connection keeps its user, so reconnect to switch users')
    return
  }
  const { expiresAt } = verified.principal
  ctx.tokens.track(member.connection.id, expiresAt)
  send(ctx, member, {
    type: 'connection_status',
    status: 'token_refreshed',
    expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    timestamp: now()
  })
}
