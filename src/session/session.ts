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
 * One open connection's session: what its listeners need. It hangs off the
 * socket (kSession) and the listeners are shared functions that find it
 * there (ws calls them with the socket as `this`), so a connection costs one
 * small object instead of a closure and scope per listener and a logger.
 */
class Session {
  readonly ctx: SessionContext
  readonly member: Member
  readonly limiter: MessageRateLimiter
  /** The upgrade request's id, bound to every log line of the connection. */
  readonly reqId: string

  constructor (ctx: SessionContext, member: Member, reqId: string) {
    this.ctx = ctx
    this.member = member
    this.limiter = new MessageRateLimiter(ctx.messageRateLimit)
    this.reqId = reqId
  }

  /** The connection's logger, built when something is logged (a connection logs a few lines in its life). */
  get log (): LazyChildLogger {
    const { id, userId } = this.member.connection
    return lazyChild(this.ctx.log, { reqId: this.reqId, userId, connectionId: id })
  }
}

const kSession = Symbol('session')
type SessionSocket = WebSocket & { [kSession]?: Session }

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
  const session = new Session(ctx, member, admitted.reqId)
  const sessionSocket = socket as SessionSocket
  sessionSocket[kSession] = session
  socket.on('pong', onPong)
  socket.on('message', onMessage)
  socket.on('error', onError)
  socket.on('close', onClose)
  session.log.info('websocket connection opened')
  greet(ctx, member, admitted)
  ctx.tokens.track(id, principal.expiresAt)
  return (data, isBinary) => { onMessage.call(sessionSocket, data, isBinary) }
}

function onPong (this: SessionSocket): void {
  const session = this[kSession]
  if (session !== undefined) session.member.alive = true
}

// ws calls this from the socket's data event: anything thrown here would
// reach the process and end every connection, so it ends only this one.
function onMessage (this: SessionSocket, data: WebSocket.RawData, isBinary: boolean): void {
  const session = this[kSession]
  if (session === undefined) return
  try {
    receive(session, this, data, isBinary)
  } catch (err) {
    fail(session.ctx.metrics.refused, this, err, session.log, 'handling a message')
  }
}

function onError (this: SessionSocket, err: Error): void {
  this[kSession]?.log.info({ err: err.message }, 'websocket error')
}

function onClose (this: SessionSocket, code: number): void {
  const session = this[kSession]
  if (session !== undefined) close(session, code)
}

/** One client message: rate limit, parse, then resume or the message's handler. */
function receive (session: Session, socket: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
  const { ctx, member } = session
  if (socket.readyState !== socket.OPEN) return
  if (!session.limiter.allow()) {
    session.log.info({ closeCode: CloseCode.RATE_LIMITED }, 'closing connection: message rate limit exceeded')
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
function close (session: Session, code: number): void {
  const { ctx, member } = session
  const { id, userId } = member.connection
  ctx.hub.remove(id)
  ctx.slots.release(userId, id)
  ctx.resumer.forget(member)
  ctx.presence.forget(member)
  ctx.tokens.untrack(id)
  session.log.info({ closeCode: code, durationMs: Date.now() - member.openedAt }, 'websocket connection closed')
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
