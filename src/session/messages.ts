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
      const { allowed, forbidden } = withinScope(member, message.camera_ids)
      const applied = member.subscription.subscribe(message.event_types, allowed, ctx.maxCameraIds)
      if (!applied.ok) {
        sendError(ctx, member, 'too_many_cameras', `subscribe refused: it would hold ${applied.wouldHold} camera ids, more than MAX_CAMERA_IDS=${ctx.maxCameraIds} per connection; nothing was changed (you hold ${member.subscription.cameraCount}). Unsubscribe cameras first, or send camera_ids: null for every camera`)
        return
      }
      if (forbidden.length > 0) sendError(ctx, member, 'forbidden_camera', forbiddenMessage(forbidden))
      break
    }
    case 'unsubscribe':
      member.subscription.unsubscribe(message.event_types, message.camera_ids)
      break
  }
  send(ctx, member, { type: 'subscribed', ...member.subscription.toJSON(), timestamp: now() })
}

/** How many out-of-scope ids a `forbidden_camera` error names (a subscribe may carry 1000). */
export const MAX_NAMED_CAMERAS = 10

/**
 * Splits a subscribe's camera list by the connection's scope. `null` (every
 * camera) needs no split: mayReceive never lets a camera outside the scope
 * through, whatever the subscription says.
 */
function withinScope (member: Member, cameraIds: readonly string[] | null | undefined): { allowed: readonly string[] | null | undefined, forbidden: string[] } {
  if (cameraIds === null || cameraIds === undefined || member.scope.all) return { allowed: cameraIds, forbidden: [] }
  const allowed: string[] = []
  const forbidden: string[] = []
  for (const id of cameraIds) (member.scope.admits(id) ? allowed : forbidden).push(id)
  return { allowed, forbidden }
}

function forbiddenMessage (forbidden: readonly string[]): string {
  const named = forbidden.slice(0, MAX_NAMED_CAMERAS).map(id => JSON.stringify(id)).join(', ')
  const more = forbidden.length > MAX_NAMED_CAMERAS ? ` and ${forbidden.length - MAX_NAMED_CAMERAS} more` : ''
  return `not subscribed to ${named}${more}: your token's cameras claim does not admit them; the other cameras were subscribed (see the subscribed answer)`
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
  // A connection keeps the scope it was admitted with: applying a new one
  // would also have to re-filter its resume state and statistics view.
  if (verified.principal.cameras.key !== member.scope.key) {
    sendError(ctx, member, 'invalid_token', 'token refused: its cameras claim differs from this connection\'s; a connection keeps its cameras, so reconnect to change cameras')
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
