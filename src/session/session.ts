import type WebSocket from 'ws'
import type { Principal } from '../auth/principal.js'
import type { Member } from '../hub/connection-hub.js'
import { lazyChild, type LazyChildLogger } from '../log/lazy-child.js'
import { CloseCode } from '../protocol/close-codes.js'
import { now, parseClientMessage } from '../protocol/codec.js'
import { RESUME_NOT_FIRST } from '../resume/resumer.js'
import { fail } from '../transport/refusal.js'
import { WsConnection } from '../transport/ws-connection.js'
import { send, sendError, type SessionContext } from './context.js'
import { MessageRateLimiter } from './message-rate-limiter.js'
import { handleMessage } from './messages.js'

/** A connection that passed admission: its token was good and it holds a slot. */
export interface Admitted {
  /** The connection id (also its slot's id). */
  id: string
  principal: Principal
  /** The upgrade request's id, bound to every log line of the connection. */
  reqId: string
  /** `?last_seq=`: null when absent, NaN when not a whole number ≥ 0. */
  lastSeq: number | null
  /** `?stream=`: the sequence `last_seq` came from, when the client names it. */
  stream: string | undefined
}

export type MessageListener = (data: WebSocket.RawData, isBinary: boolean) => void

/**
 * Registers an admitted connection in the hub and starts serving it: its
 * messages, its resume, its token's lifetime, and the cleanup at close.
 * Everything happens synchronously, so no live message can slip past the
 * resume gate, and no client message is missed.
 * @returns its message listener, for messages that arrived during admission.
 */
export function openSession (ctx: SessionContext, socket: WebSocket, admitted: Admitted): MessageListener {
  const { id, principal } = admitted
  const member = ctx.hub.add(new WsConnection(id, principal.userId, socket, ctx.hub.outbound))
  // In the same synchronous step as hub.add: the first fan-out slice or
  // replay that can reach this member already sees its scope.
  member.scope = principal.cameras
  member.seesPresence = principal.roles.includes('admin') || principal.roles.includes('presence')
  const log = lazyChild(ctx.log, { reqId: admitted.reqId, userId: principal.userId, connectionId: id })
  const onMessage = listen(ctx, socket, member, log)
  log.info('websocket connection opened')
  greet(ctx, member, admitted)
  ctx.tokens.track(id, principal.expiresAt)
  return onMessage
}

/** Attaches the socket's listeners; returns the message listener. */
function listen (ctx: SessionContext, socket: WebSocket, member: Member, log: LazyChildLogger): MessageListener {
  const limiter = new MessageRateLimiter(ctx.messageRateLimit)
  socket.on('pong', () => { member.alive = true })
  // ws calls this from the socket's data event: anything thrown here would
  // reach the process and end every connection, so it ends only this one.
  const onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    try {
      receive(ctx, socket, member, limiter, log, data, isBinary)
    } catch (err) {
      fail(ctx.metrics.refused, socket, err, log, 'handling a message')
    }
  }
  socket.on('message', onMessage)
  socket.on('error', (err) => {
    log.info({ err: err.message }, 'websocket error')
  })
  socket.on('close', (code) => { close(ctx, member, log, code) })
  return onMessage
}

/** One client message: rate limit, parse, then resume or the message's handler. */
function receive (ctx: SessionContext, socket: WebSocket, member: Member, limiter: MessageRateLimiter, log: LazyChildLogger, data: WebSocket.RawData, isBinary: boolean): void {
  if (socket.readyState !== socket.OPEN) return
  if (!limiter.allow()) {
    log.info({ closeCode: CloseCode.RATE_LIMITED }, 'closing connection: message rate limit exceeded')
    member.connection.close(CloseCode.RATE_LIMITED, `too many messages: at most ${ctx.messageRateLimit} per second`)
    return
  }
  const parsed = parseClientMessage(data as Buffer, isBinary)
  // Any first message ends the wait for a resume; a resume is taken here.
  const offered = ctx.resumer.offer(member, parsed.ok ? parsed.message : { type: '' })
  if (offered === 'handled') return
  if (offered === 'late') {
    sendError(ctx, member, 'resume_not_allowed', RESUME_NOT_FIRST)
    return
  }
  if (parsed.ok) handleMessage(ctx, member, parsed.message)
  else sendError(ctx, member, parsed.code, parsed.message)
}

/** The first messages: connected, the latest statistics, then the resume (or live) stream. */
function greet (ctx: SessionContext, member: Member, admitted: Admitted): void {
  send(ctx, member, {
    type: 'connection_status',
    status: 'connected',
    connection_id: admitted.id,
    user_id: admitted.principal.userId,
    stream: ctx.stream(),
    stats_interval_ms: ctx.statsIntervalMs,
    message: 'WebSocket connection established successfully',
    timestamp: now()
  })
  const statistics = ctx.latestStatisticsFrame(member.scope)
  if (statistics !== null) {
    member.connection.send(statistics)
    ctx.metrics.sent.inc({ type: 'statistics_update' })
  }
  const { lastSeq } = admitted
  if (Number.isNaN(lastSeq)) {
    sendError(ctx, member, 'invalid_message', 'last_seq must be a whole number >= 0 (the seq of the last message received); connected without resume')
  }
  // In the same synchronous step as hub.add: no live message can slip
  // past the gate before the replay.
  ctx.resumer.open(member, Number.isNaN(lastSeq) ? null : lastSeq, admitted.stream)
}

/** Frees everything the connection held: its hub entry, slot, resume state and token entry. */
function close (ctx: SessionContext, member: Member, log: LazyChildLogger, code: number): void {
  const { id, userId } = member.connection
  ctx.hub.remove(id)
  ctx.slots.release(userId, id)
  ctx.resumer.forget(member)
  ctx.presence.forget(member)
  ctx.tokens.untrack(id)
  log.info({ closeCode: code, durationMs: Date.now() - member.openedAt }, 'websocket connection closed')
}

/**
 * Undoes an `openSession` that threw half-way: whatever it registered goes,
 * so the slot is free again. Safe for parts it never reached.
 */
export function abandonSession (ctx: SessionContext, id: string, userId: string): void {
  ctx.hub.remove(id)
  ctx.tokens.untrack(id)
  ctx.slots.release(userId, id)
}
