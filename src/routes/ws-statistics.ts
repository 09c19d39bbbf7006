import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type WebSocket from 'ws'
import type { Principal } from '../auth/principal.js'
import type { AcquireResult } from '../backplane/slot-limiter.js'
import { bearerToken } from '../plugins/auth.js'
import { CloseCode } from '../protocol/close-codes.js'
import type { SessionContext } from '../session/context.js'
import { abandonSession, openSession } from '../session/session.js'
import { createTokenWheel } from '../session/token-wheel.js'
import { errorReply } from '../protocol/http-replies.js'
import { fail, refuse, SHUTDOWN_REASON } from '../transport/refusal.js'
import { flushHandshake, holdHandshake, releaseUpgrade } from '../transport/ws-connection.js'

export { EXPIRED_REASON } from '../session/token-wheel.js'

export const WS_PATH = '/api/ws/statistics'

/** Client messages kept while the connection limit is being checked; later ones are dropped. */
const MAX_EARLY_MESSAGES = 32
const UNAVAILABLE_REASON = 'service temporarily unavailable: reconnect in a few seconds'

/** The slot store (Redis) is slow: load is shed with a code a client or operator can look up. */
export const BUSY_REASON = 'PUSH_BACKPLANE_BUSY: shared state (Redis) is slow right now; reconnect in a few seconds'

export const ORIGIN_REASON = 'origin not allowed: this page may not connect here; the operator lists allowed origins in ALLOWED_ORIGINS'
export const DRAINING_REASON = 'server restarting: reconnect in a few seconds'

function tokenOf (request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined
  const fromQuery = query?.token
  if (typeof fromQuery === 'string' && fromQuery !== '') return fromQuery
  return bearerToken(request.headers.authorization)
}

/** True for the statistics endpoint's path, with or without a query. */
function isStatisticsPath (url: string | undefined): boolean {
  return url !== undefined && url.startsWith(WS_PATH) && (url.length === WS_PATH.length || url.charCodeAt(WS_PATH.length) === 63 /* ? */)
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

/** What admission reads, built once for the route. */
interface Admission {
  readonly app: FastifyInstance
  /** ALLOWED_ORIGINS, or null when every origin may connect. */
  readonly allowedOrigins: ReadonlySet<string> | null
  readonly session: SessionContext
}

/**
 * The dashboard endpoint: admission (origin, drain and shutdown, token,
 * per-user slot) here, then a session per connection (src/session/).
 * Refusals complete the upgrade and close at once with a code and a reason,
 * because a browser cannot read an HTTP refusal of a WebSocket upgrade.
 * Only floods and overload are refused before the upgrade: HTTP 429 from
 * the rate limiter, 503 at MAX_SOCKETS (see the websocket plugin).
 */
export default async function wsStatisticsRoute (app: FastifyInstance): Promise<void> {
  const { config, hub, metrics } = app
  const tokens = createTokenWheel({ warningMs: config.TOKEN_REFRESH_WARNING_MS, skewMs: config.JWT_CLOCK_SKEW_MS, hub, metrics, log: app.log })
  tokens.start()
  app.addHook('onClose', async () => { tokens.stop() })
  const admission: Admission = {
    app,
    allowedOrigins: config.ALLOWED_ORIGINS === null ? null : new Set(config.ALLOWED_ORIGINS),
    session: sessionContext(app, tokens)
  }
  // Every upgrade of this route ends in a greeting or a refusal, both of
  // which flush what is held; upgrades of other paths are not held.
  app.websocketServer.on('headers', (_headers: string[], request: IncomingMessage) => {
    if (isStatisticsPath(request.url)) holdHandshake(request.socket)
  })
  const connectRateLimit = config.WS_CONNECT_RATE_LIMIT > 0
    ? { max: config.WS_CONNECT_RATE_LIMIT, timeWindow: 60_000 }
    : false

  app.route({
    method: 'GET',
    url: WS_PATH,
    config: { rateLimit: connectRateLimit },
    // Documentation only: the query is not validated here, because a bad
    // one must become a close code a browser can read, not an HTTP 400.
    schema: {
      summary: 'Open the statistics WebSocket',
      description: 'Upgrade to a WebSocket with `?token=<JWT>` (or an Authorization header), optionally `&last_seq=N&stream=S` to resume. Messages, close codes and error codes: docs/asyncapi.json. A refused connection is upgraded and then closed with a close code and reason (4401, 4403, 1008, 1013), because browsers cannot read an HTTP refusal; only floods get HTTP 429 (WS_CONNECT_RATE_LIMIT_PER_MINUTE) and overload HTTP 503 (MAX_SOCKETS).',
      tags: ['websocket'],
      documentedQuerystring: Type.Object({
        token: Type.Optional(Type.String({ description: 'The JWT (browsers cannot set an Authorization header on a WebSocket)' })),
        last_seq: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'Resume: replay the camera events and alerts after this seq (same as a first `resume` message)' })),
        stream: Type.Optional(Type.String({ maxLength: 64, description: 'Resume: the `stream` of the `connected` status that last_seq came from; another stream resyncs' }))
      }),
      security: [{ bearerAuth: [] }, { queryToken: [] }],
      response: {
        101: Type.Null({ description: 'Switching Protocols: the connection speaks the protocol in docs/asyncapi.json' }),
        426: errorReply('A plain HTTP request: this endpoint speaks WebSocket only'),
        429: errorReply('Too many handshakes from this address (WS_CONNECT_RATE_LIMIT_PER_MINUTE)'),
        503: errorReply('The process holds MAX_SOCKETS WebSockets already; retry after Retry-After seconds', ['PUSH_AT_CAPACITY'])
      }
    },
    // A plain HTTP request to the WebSocket endpoint gets an answer that says what to do.
    handler: async (_request, reply) => {
      return await reply.code(426).header('upgrade', 'websocket').send({
        statusCode: 426,
        code: 'PUSH_UPGRADE_REQUIRED',
        error: 'Upgrade Required',
        message: `this endpoint speaks WebSocket: connect with ws://<host>${WS_PATH}?token=<JWT>`
      })
    },
    // Handlers are attached synchronously: a message that arrives before an
    // await would resolve would be lost.
    wsHandler: (socket: WebSocket, request: FastifyRequest) => {
      try {
        handshake(admission, socket, request)
      } catch (err) {
        fail(metrics.refused, socket, err, request.log, 'the handshake')
      }
    }
  })
}

/** What every session of this route uses of the app. */
function sessionContext (app: FastifyInstance, tokens: SessionContext['tokens']): SessionContext {
  const { config } = app
  return {
    hub: app.hub,
    // Read when used: the limiter is the app's, whichever backplane set it.
    get slots () { return app.slotLimiter },
    resumer: app.resumer,
    presence: app.presence,
    tokens,
    metrics: app.metrics,
    log: app.log,
    messageRateLimit: config.WS_MESSAGE_RATE_LIMIT,
    maxCameraIds: config.MAX_CAMERA_IDS,
    statsIntervalMs: config.STATS_INTERVAL_MS,
    // Through the app each time: a test may replace app.verifyToken.
    verifyToken: (token) => app.verifyToken(token),
    stream: () => app.bus.stream,
    latestStatisticsFrame: (scope) => app.latestStatisticsFrame(scope)
  }
}

/** A drain refuses with 1012 (reconnect elsewhere), a close with 1001. */
function refuseWhileStopping (app: FastifyInstance, socket: WebSocket): boolean {
  if (app.draining) refuse(app.metrics.refused, socket, CloseCode.SERVICE_RESTART, DRAINING_REASON)
  else if (app.shuttingDown) refuse(app.metrics.refused, socket, CloseCode.GOING_AWAY, SHUTDOWN_REASON)
  else return false
  return true
}

/** Checks a just-upgraded socket and asks for its slot. */
function handshake (admission: Admission, socket: WebSocket, request: FastifyRequest): void {
  const { app, allowedOrigins } = admission
  const { refused } = app.metrics
  // Nothing below needs the upgrade request once it is read here; letting
  // go of it saves memory on every idle connection.
  releaseUpgrade(socket)
  // Browsers always send Origin; scripts and servers usually do not, and
  // are not what an origin check protects against.
  const origin = request.headers.origin
  if (allowedOrigins !== null && origin !== undefined && !allowedOrigins.has(origin)) {
    request.log.info({ closeCode: CloseCode.FORBIDDEN, origin: origin.slice(0, 200) }, 'websocket refused: origin not allowed')
    refuse(refused, socket, CloseCode.FORBIDDEN, ORIGIN_REASON)
    return
  }
  if (refuseWhileStopping(app, socket)) return
  const verified = app.verifyToken(tokenOf(request))
  if (!verified.ok) {
    request.log.info({ closeCode: CloseCode.UNAUTHORIZED, reason: verified.reason }, 'websocket refused: unusable token')
    refuse(refused, socket, CloseCode.UNAUTHORIZED, verified.reason)
    return
  }
  admitWithSlot(admission, socket, request, verified.principal)
}

/**
 * Takes a slot for the connection (the one per-user limit) and, once it is
 * granted, opens its session. The slot limiter may answer asynchronously (in
 * a cluster it asks Redis): until it does, client messages wait here, and a
 * close frees the slot as soon as it is granted.
 */
function admitWithSlot (admission: Admission, socket: WebSocket, request: FastifyRequest, principal: Principal): void {
  const { app, session } = admission
  const { userId } = principal
  const id = randomUUID()
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
    if (slot.ok && refuseWhileStopping(app, socket)) {
      app.slotLimiter.release(userId, id)
      return
    }
    if (!slot.ok) {
      refuseSlot(app, socket, request, userId, slot)
      return
    }
    held = true
    const onMessage = openSession(session, socket, { id, principal, reqId: request.id, lastSeq: lastSeqOf(request), stream: streamOf(request) })
    held = false
    // The 101, the greeting and any replay leave in one write.
    flushHandshake(socket)
    for (const [data, isBinary] of early) onMessage(data, isBinary)
  }).catch((err: unknown) => {
    if (held) {
      // The session failed to open half-way: whatever it registered is undone here.
      abandonSession(session, id, userId)
      fail(app.metrics.refused, socket, err, request.log, 'admitting the connection')
      return
    }
    request.log.error({ err }, 'websocket refused: the connection could not be admitted')
    refuse(app.metrics.refused, socket, CloseCode.TRY_AGAIN_LATER, UNAVAILABLE_REASON)
  })
}

/** The one place a connection is refused for its user's limit (or for a slot store that is unreachable or too slow). */
function refuseSlot (app: FastifyInstance, socket: WebSocket, request: FastifyRequest, userId: string, slot: Exclude<AcquireResult, { ok: true }>): void {
  if (slot.reason === 'connection_limit') {
    request.log.info({ userId, closeCode: CloseCode.POLICY_VIOLATION }, 'websocket refused: connection limit reached')
    refuse(app.metrics.refused, socket, CloseCode.POLICY_VIOLATION, `connection limit exceeded: ${slot.limit} per user`)
  } else if (slot.reason === 'busy') {
    request.log.info({ userId, closeCode: CloseCode.TRY_AGAIN_LATER }, 'websocket refused: shared state too slow (PUSH_BACKPLANE_BUSY)')
    refuse(app.metrics.refused, socket, CloseCode.TRY_AGAIN_LATER, BUSY_REASON)
  } else {
    request.log.info({ userId, closeCode: CloseCode.TRY_AGAIN_LATER }, 'websocket refused: shared state unavailable')
    refuse(app.metrics.refused, socket, CloseCode.TRY_AGAIN_LATER, UNAVAILABLE_REASON)
  }
}
