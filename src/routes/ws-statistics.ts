import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type WebSocket from 'ws'
import { TokenExpiry } from '../auth/token-expiry.js'
import type { Member } from '../hub/connection-hub.js'
import { MessageRateLimiter } from '../hub/message-rate-limiter.js'
import { releaseUpgrade, WsConnection } from '../hub/ws-connection.js'
import { lazyChild } from '../log/lazy-child.js'
import { bearerToken, type Principal } from '../plugins/auth.js'
import { SHUTDOWN_REASON } from '../plugins/websocket.js'
import { CloseCode } from '../protocol/close-codes.js'
import { encode, now, parseClientMessage } from '../protocol/codec.js'
import type { AuthMessage, ClientMessage, ErrorCode, ServerMessage } from '../protocol/messages.js'
import { RESUME_NOT_FIRST } from '../resume/resumer.js'

export const WS_PATH = '/api/ws/statistics'

/** Client messages kept while the connection limit is being checked; later ones are dropped. */
const MAX_EARLY_MESSAGES = 32
const UNAVAILABLE_REASON = 'service temporarily unavailable: reconnect in a few seconds'
/** A bug met while serving one connection closes that connection (1011), never the process. */
const INTERNAL_REASON = 'internal error: the server could not handle this connection; reconnect'

function tokenOf (request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined
  const fromQuery = query?.token
  if (typeof fromQuery === 'string' && fromQuery !== '') return fromQuery
  return bearerToken(request.headers.authorization)
}

/** `?stream=`: the sequence `last_seq` came from, when the client names it. */
function streamOf (request: FastifyRequest): string | undefined {
  const raw = (request.query as Record<string, unknown> | undefined)?.stream
  return typeof raw === 'string' && raw !== '' ? raw.slice(0, 64) : undefined
}

/** `?last_seq=N`: null when absent, NaN when not a whole number ≥ 0. */
function lastSeqOf (request: FastifyRequest): number | null {
  const raw = (request.query as Record<string, unknown> | undefined)?.last_seq
  if (raw === undefined || raw === '') return null
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) return Number.NaN
  return Number(raw)
}

export const ORIGIN_REASON = 'origin not allowed: this page may not connect here; the operator lists allowed origins in ALLOWED_ORIGINS'
export const DRAINING_REASON = 'server restarting: reconnect in a few seconds'
export const EXPIRED_REASON = 'token expired: reconnect with a new token, or refresh it with an auth message before it expires'

/**
 * The dashboard endpoint. Refusals complete the upgrade and close at once
 * with a code and a reason, because a browser cannot read an HTTP refusal
 * of a WebSocket upgrade. Only floods and overload are refused before the
 * upgrade: HTTP 429 from the rate limiter, 503 at MAX_SOCKETS (see the
 * websocket plugin).
 */
export default async function wsStatisticsRoute (app: FastifyInstance): Promise<void> {
  const { config, hub, metrics, resumer } = app
  const allowedOrigins = config.ALLOWED_ORIGINS === null ? null : new Set(config.ALLOWED_ORIGINS)
  /** Logs an unexpected failure on one connection and closes it with 1011. */
  function fail (socket: WebSocket, err: unknown, log: { error (obj: object, msg: string): void }, what: string): void {
    log.error({ err }, `closing connection: ${what} failed`)
    try {
      refuse(socket, CloseCode.INTERNAL_ERROR, INTERNAL_REASON)
    } catch {
      socket.terminate()
    }
  }
  const tokens = new TokenExpiry({
    warningMs: config.TOKEN_REFRESH_WARNING_MS,
    skewMs: config.JWT_CLOCK_SKEW_MS,
    onWarn (id, expiresAt) {
      const member = hub.get(id)
      if (member !== undefined) send(member, { type: 'connection_status', status: 'token_expiring', expires_at: new Date(expiresAt).toISOString(), message: 'send {"type":"auth","token":"<new token>"} before expires_at to stay connected', timestamp: now() })
    },
    onExpire (id) {
      const member = hub.get(id)
      if (member === undefined) return
      app.log.info({ connectionId: id, userId: member.connection.userId, closeCode: CloseCode.UNAUTHORIZED }, 'closing connection: token expired')
      member.connection.close(CloseCode.UNAUTHORIZED, EXPIRED_REASON)
    },
    onError (id, err) {
      const member = hub.get(id)
      if (member !== undefined) member.connection.close(CloseCode.INTERNAL_ERROR, INTERNAL_REASON)
      app.log.error({ err, connectionId: id }, 'closing connection: its token expiry could not be handled')
    }
  })
  tokens.start()
  app.addHook('onClose', async () => { tokens.stop() })

  /** Closes a just-upgraded socket with a code and reason, counted by code. */
  function refuse (socket: WebSocket, code: number, reason: string): void {
    metrics.refused.inc({ code: String(code) })
    socket.close(code, reason)
  }
  /** A drain refuses with 1012 (reconnect elsewhere), a close with 1001. */
  function refuseWhileStopping (socket: WebSocket): boolean {
    if (app.draining) refuse(socket, CloseCode.SERVICE_RESTART, DRAINING_REASON)
    else if (app.shuttingDown) refuse(socket, CloseCode.GOING_AWAY, SHUTDOWN_REASON)
    else return false
    return true
  }
  const connectRateLimit = config.WS_CONNECT_RATE_LIMIT > 0
    ? { max: config.WS_CONNECT_RATE_LIMIT, timeWindow: 60_000 }
    : false
  const rateReason = `too many messages: at most ${config.WS_MESSAGE_RATE_LIMIT} per second`

  app.route({
    method: 'GET',
    url: WS_PATH,
    config: { rateLimit: connectRateLimit },
    // A plain HTTP request to the WebSocket endpoint gets an answer that says what to do.
    handler: async (_request, reply) => {
      return await reply.code(426).header('upgrade', 'websocket').send({
        statusCode: 426,
        error: 'Upgrade Required',
        message: `this endpoint speaks WebSocket: connect with ws://<host>${WS_PATH}?token=<JWT>`
      })
    },
    // Handlers are attached synchronously: a message that arrives before an
    // await would resolve would be lost.
    wsHandler: (socket: WebSocket, request: FastifyRequest) => {
      try {
        handshake(socket, request)
      } catch (err) {
        fail(socket, err, request.log, 'the handshake')
      }
    }
  })

  /** Checks a just-upgraded socket and, when a slot is granted, admits it. */
  function handshake (socket: WebSocket, request: FastifyRequest): void {
    // Nothing below needs the upgrade request once it is read here; letting
    // go of it saves memory on every idle connection.
    releaseUpgrade(socket)
    // Browsers always send Origin; scripts and servers usually do not, and
    // are not what an origin check protects against.
    const origin = request.headers.origin
    if (allowedOrigins !== null && origin !== undefined && !allowedOrigins.has(origin)) {
      request.log.info({ closeCode: CloseCode.FORBIDDEN, origin: origin.slice(0, 200) }, 'websocket refused: origin not allowed')
      refuse(socket, CloseCode.FORBIDDEN, ORIGIN_REASON)
      return
    }
    if (refuseWhileStopping(socket)) return
    const verified = app.verifyToken(tokenOf(request))
    if (!verified.ok) {
      request.log.info({ closeCode: CloseCode.UNAUTHORIZED, reason: verified.reason }, 'websocket refused: unusable token')
      refuse(socket, CloseCode.UNAUTHORIZED, verified.reason)
      return
    }
    const { userId } = verified.principal
    const id = randomUUID()
    // The slot limiter may answer asynchronously (in a cluster it asks
    // Redis): until it does, client messages wait here, and a close frees
    // the slot as soon as it is granted.
    const early: Array<[WebSocket.RawData, boolean]> = []
    const keepEarly = (data: WebSocket.RawData, isBinary: boolean): void => {
      if (early.length < MAX_EARLY_MESSAGES) early.push([data, isBinary])
    }
    let gone = false
    const onEarlyClose = (): void => { gone = true }
    socket.on('message', keepEarly)
    socket.on('close', onEarlyClose)
    /** Set while this handshake holds a slot that no close listener frees yet. */
    let held = false
    app.slotLimiter.acquire(userId, id).then(slot => {
      socket.off('message', keepEarly)
      socket.off('close', onEarlyClose)
      if (gone) {
        if (slot.ok) app.slotLimiter.release(userId, id)
        return
      }
      // A drain or close that began while the slot was asked for has
      // already told every member; this one would be missed.
      if (slot.ok && refuseWhileStopping(socket)) {
        app.slotLimiter.release(userId, id)
        return
      }
      if (!slot.ok) {
        if (slot.reason === 'connection_limit') {
          request.log.info({ userId, closeCode: CloseCode.POLICY_VIOLATION }, 'websocket refused: connection limit reached')
          refuse(socket, CloseCode.POLICY_VIOLATION, `connection limit exceeded: ${slot.limit} per user`)
        } else {
          request.log.info({ userId, closeCode: CloseCode.TRY_AGAIN_LATER }, 'websocket refused: shared state unavailable')
          refuse(socket, CloseCode.TRY_AGAIN_LATER, UNAVAILABLE_REASON)
        }
        return
      }
      held = true
      const onMessage = admit(socket, request, verified.principal, id)
      held = false
      if (onMessage === null) {
        app.slotLimiter.release(userId, id)
        return
      }
      for (const [data, isBinary] of early) onMessage(data, isBinary)
    }).catch((err: unknown) => {
      if (held) {
        // admit failed half-way: whatever it registered is undone here.
        hub.remove(id)
        tokens.untrack(id)
        app.slotLimiter.release(userId, id)
        fail(socket, err, request.log, 'admitting the connection')
        return
      }
      request.log.error({ err }, 'websocket refused: the connection could not be admitted')
      refuse(socket, CloseCode.TRY_AGAIN_LATER, UNAVAILABLE_REASON)
    })
  }

  /**
   * Registers an admitted connection and starts serving it.
   * @returns its message handler, or null when the hub refused it.
   */
  function admit (socket: WebSocket, request: FastifyRequest, principal: Principal, id: string): ((data: WebSocket.RawData, isBinary: boolean) => void) | null {
    const { userId } = principal
    const added = hub.add(new WsConnection(id, userId, socket, hub.outbound))
    if (!added.ok) {
      request.log.info({ userId, closeCode: CloseCode.POLICY_VIOLATION }, 'websocket refused: connection limit reached')
      refuse(socket, CloseCode.POLICY_VIOLATION, `connection limit exceeded: ${added.limit} per user`)
      return null
    }
    const member = added.member
    const log = lazyChild(app.log, { reqId: request.id, userId, connectionId: id })
    const limiter = new MessageRateLimiter(config.WS_MESSAGE_RATE_LIMIT)

    socket.on('pong', () => { member.alive = true })
    // ws calls this from the socket's data event: anything thrown here would
    // reach the process and end every connection, so it ends only this one.
    const onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
      try {
        serve(data, isBinary)
      } catch (err) {
        fail(socket, err, log, 'handling a message')
      }
    }
    const serve = (data: WebSocket.RawData, isBinary: boolean): void => {
      if (socket.readyState !== socket.OPEN) return
      if (!limiter.allow()) {
        log.info({ closeCode: CloseCode.RATE_LIMITED }, 'closing connection: message rate limit exceeded')
        member.connection.close(CloseCode.RATE_LIMITED, rateReason)
        return
      }
      const parsed = parseClientMessage(data as Buffer, isBinary)
      // Any first message ends the wait for a resume; a resume is taken here.
      const offered = resumer.offer(member, parsed.ok ? parsed.message : { type: '' })
      if (offered === 'handled') return
      if (offered === 'late') {
        sendError(member, 'resume_not_allowed', RESUME_NOT_FIRST)
        return
      }
      if (parsed.ok) handle(member, parsed.message)
      else sendError(member, parsed.code, parsed.message)
    }
    socket.on('message', onMessage)
    socket.on('error', (err) => {
      log.info({ err: err.message }, 'websocket error')
    })
    socket.on('close', (code) => {
      hub.remove(id)
      app.slotLimiter.release(userId, id)
      resumer.forget(member)
      tokens.untrack(id)
      log.info({ closeCode: code, durationMs: Date.now() - member.openedAt }, 'websocket connection closed')
    })

    log.info('websocket connection opened')
    send(member, {
      type: 'connection_status',
      status: 'connected',
      connection_id: id,
      user_id: userId,
      stream: app.bus.stream,
      message: 'WebSocket connection established successfully',
      timestamp: now()
    })
    const statistics = app.latestStatisticsFrame()
    if (statistics !== null) {
      member.connection.send(statistics)
      metrics.sent.inc({ type: 'statistics_update' })
    }
    const lastSeq = lastSeqOf(request)
    if (Number.isNaN(lastSeq)) {
      sendError(member, 'invalid_message', 'last_seq must be a whole number >= 0 (the seq of the last message received); connected without resume')
    }
    // In the same synchronous step as hub.add: no live message can slip
    // past the gate before the replay.
    resumer.open(member, Number.isNaN(lastSeq) ? null : lastSeq, streamOf(request))
    tokens.track(id, principal.expiresAt)
    return onMessage
  }

  function send (member: Member, message: ServerMessage): void {
    member.connection.send(encode(message))
    metrics.sent.inc({ type: message.type })
  }

  /** A fresh token for an open connection: same user, valid signature, or the old expiry stands. */
  function refresh (member: Member, message: AuthMessage): void {
    const verified = app.verifyToken(message.token)
    if (!verified.ok) {
      sendError(member, 'invalid_token', `token refused (${verified.reason}); the current token still expires as announced`)
      return
    }
    if (verified.principal.userId !== member.connection.userId) {
      sendError(member, 'invalid_token', 'token refused: its sub is another user; a connection keeps its user, so reconnect to switch users')
      return
    }
    const { expiresAt } = verified.principal
    tokens.track(member.connection.id, expiresAt)
    send(member, {
      type: 'connection_status',
      status: 'token_refreshed',
      expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString(),
      timestamp: now()
    })
  }

  function handle (member: Member, message: ClientMessage): void {
    switch (message.type) {
      case 'ping':
        send(member, { type: 'pong', timestamp: now(), echo: message.timestamp ?? null })
        return
      case 'auth':
        refresh(member, message)
        return
      case 'resume':
        // Taken by the resumer when first; never reaches here otherwise.
        return
      case 'subscribe': {
        const applied = member.subscription.subscribe(message.event_types, message.camera_ids, config.MAX_CAMERA_IDS)
        if (!applied.ok) {
          sendError(member, 'too_many_cameras', `subscribe refused: it would hold ${applied.wouldHold} camera ids, more than MAX_CAMERA_IDS=${config.MAX_CAMERA_IDS} per connection; nothing was changed (you hold ${member.subscription.cameraCount}). Unsubscribe cameras first, or send camera_ids: null for every camera`)
          return
        }
        break
      }
      case 'unsubscribe':
        member.subscription.unsubscribe(message.event_types, message.camera_ids)
        break
    }
    send(member, { type: 'subscribed', ...member.subscription.toJSON(), timestamp: now() })
  }

  function sendError (member: Member, code: ErrorCode, message: string): void {
    send(member, { type: 'error', code, message, timestamp: now() })
  }
}
