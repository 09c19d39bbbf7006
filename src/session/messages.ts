import type { Member } from '../hub/connection-hub.js'
import { now } from '../protocol/codec.js'
import { MAX_CAMERA_EVENT_TYPES, PRESENCE_TYPE, type AuthMessage, type ClientMessage, type RequestedType, type SubscribableType } from '../protocol/messages.js'
import { send, sendError, type SessionContext } from './context.js'

/** Answers one parsed client message (a resume is taken by the resumer before this). */
export function handleMessage (ctx: SessionContext, member: Member, message: ClientMessage): void {
  switch (message.type) {
    case 'ping':
      send(ctx, member, message.timestamp === undefined ? { type: 'pong', timestamp: now() } : { type: 'pong', timestamp: now(), echo: message.timestamp })
      return
    case 'auth':
      refreshToken(ctx, member, message)
      return
    case 'resume':
      // Taken by the resumer when first; never reaches here otherwise.
      return
    case 'get_online_users':
      listOnlineUsers(ctx, member)
      return
    case 'subscribe': {
      const { types, presence } = splitPresence(message.event_types)
      const { allowed, forbidden } = withinScope(member, message.camera_ids)
      const applied = member.subscription.subscribe(types, allowed, ctx.maxCameraIds, message.camera_event_types, MAX_CAMERA_EVENT_TYPES)
      if (!applied.ok && applied.filter === 'camera_ids') {
        sendError(ctx, member, 'too_many_cameras', `subscribe refused: it would hold ${applied.wouldHold} camera ids, more than MAX_CAMERA_IDS=${ctx.maxCameraIds} per connection; nothing was changed (you hold ${member.subscription.cameraCount}). Unsubscribe cameras first, or send camera_ids: null for every camera`)
        return
      }
      if (!applied.ok) {
        sendError(ctx, member, 'too_many_event_types', `subscribe refused: it would hold ${applied.wouldHold} camera event types, more than ${MAX_CAMERA_EVENT_TYPES} per connection; nothing was changed (you hold ${member.subscription.cameraEventTypeCount}). Unsubscribe camera_event_types first, or send camera_event_types: null for every type`)
        return
      }
      if (forbidden.length > 0) sendError(ctx, member, 'forbidden_camera', forbiddenMessage(forbidden))
      if (presence) watchPresence(ctx, member)
      break
    }
    case 'unsubscribe': {
      const { types, presence } = splitPresence(message.event_types)
      member.subscription.unsubscribe(types, message.camera_ids, message.camera_event_types)
      if (presence) ctx.presence.unwatch(member)
      break
    }
  }
  const subscription = member.subscription.toJSON()
  const eventTypes: RequestedType[] = ctx.presence.watching(member) ? [...subscription.event_types, PRESENCE_TYPE] : subscription.event_types
  send(ctx, member, { type: 'subscribed', ...subscription, event_types: eventTypes, timestamp: now() })
}

const PRESENCE_FORBIDDEN = 'presence needs the "admin" or "presence" role in the token\'s roles claim'

/** `presence` is not one of the subscription's event types: it is asked for alongside them. */
function splitPresence (eventTypes: readonly RequestedType[] = []): { types: SubscribableType[], presence: boolean } {
  const types: SubscribableType[] = []
  let presence = false
  for (const type of eventTypes) {
    if (type === PRESENCE_TYPE) presence = true
    else types.push(type)
  }
  return { types, presence }
}

/** Starts presence for an entitled member: the snapshot, then each change; others get `forbidden`. */
function watchPresence (ctx: SessionContext, member: Member): void {
  if (!member.seesPresence) {
    sendError(ctx, member, 'forbidden', `${PRESENCE_FORBIDDEN}; the rest of this subscribe was applied`)
    return
  }
  ctx.presence.watch(member, users => {
    send(ctx, member, { type: 'presence', users, count: users.length, timestamp: now() })
  }).catch((err: unknown) => {
    ctx.log.warn({ err, connectionId: member.connection.id }, 'could not read who is online for a presence subscription')
    sendError(ctx, member, 'unavailable', 'who is online could not be read right now (shared state unreachable); subscribe to presence again later')
  })
}

function listOnlineUsers (ctx: SessionContext, member: Member): void {
  if (!member.seesPresence) {
    sendError(ctx, member, 'forbidden', `get_online_users refused: ${PRESENCE_FORBIDDEN}`)
    return
  }
  ctx.presence.online().then(users => {
    send(ctx, member, { type: 'online_users_list', users, count: users.length, timestamp: now() })
  }).catch((err: unknown) => {
    ctx.log.warn({ err, connectionId: member.connection.id }, 'could not read who is online for get_online_users')
    sendError(ctx, member, 'unavailable', 'who is online could not be read right now (shared state unreachable); ask again later')
  })
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
