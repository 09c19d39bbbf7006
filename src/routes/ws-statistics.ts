import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type WebSocket from 'ws'
import type { Member } from '../hub/connection-hub.js'
import { MessageRateLimiter } from '../hub/message-rate-limiter.js'
import { releaseUpgrade, WsConnection } from '../hub/ws-connection.js'
import { lazyChild } from '../log/lazy-child.js'
import { bearerToken } from '../plugins/auth.js'
import { CloseCode } from '../protocol/close-codes.js'
import { encode, now, parseClientMessage } from '../protocol/codec.js'
import type { ClientMessage, ErrorCode } from '../protocol/messages.js'

export const WS_PATH = '/api/ws/statistics'

function tokenOf (request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined
  const fromQuery = query?.token
  if (typeof fromQuery === 'string' && fromQuery !== '') return fromQuery
  return bearerToken(request.headers.authorization)
}

/**
 * The dashboard endpoint. Refusals complete the upgrade and close at once
 * with a code and a reason, because a browser cannot read an HTTP refusal
 * of a WebSocket upgrade. Only handshake floods are refused before the
 * upgrade, with HTTP 429 from the rate limiter.
 */
export default async function wsStatisticsRoute (app: FastifyInstance): Promise<void> {
  const { config, hub } = app
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
      releaseUpgrade(socket)
      const verified = app.verifyToken(tokenOf(request))
      if (!verified.ok) {
        request.log.info({ closeCode: CloseCode.UNAUTHORIZED, reason: verified.reason }, 'websocket refused: unusable token')
        socket.close(CloseCode.UNAUTHORIZED, verified.reason)
        return
      }
      const { userId } = verified.principal
      const id = randomUUID()
      const added = hub.add(new WsConnection(id, userId, socket, hub.outbound))
      if (!added.ok) {
        request.log.info({ userId, closeCode: CloseCode.POLICY_VIOLATION }, 'websocket refused: connection limit reached')
        socket.close(CloseCode.POLICY_VIOLATION, `connection limit exceeded: ${added.limit} per user`)
        return
      }
      const member = added.member
      const log = lazyChild(app.log, { reqId: request.id, userId, connectionId: id })
      const limiter = new MessageRateLimiter(config.WS_MESSAGE_RATE_LIMIT)

      socket.on('pong', () => { member.alive = true })
      socket.on('message', (data, isBinary) => {
        if (socket.readyState !== socket.OPEN) return
        if (!limiter.allow()) {
          log.info({ closeCode: CloseCode.RATE_LIMITED }, 'closing connection: message rate limit exceeded')
          socket.close(CloseCode.RATE_LIMITED, rateReason)
          return
        }
        const parsed = parseClientMessage(data as Buffer, isBinary)
        if (parsed.ok) handle(member, parsed.message)
        else sendError(member, parsed.code, parsed.message)
      })
      socket.on('error', (err) => {
        log.info({ err: err.message }, 'websocket error')
      })
      socket.on('close', (code) => {
        hub.remove(id)
        log.info({ closeCode: code, durationMs: Date.now() - member.openedAt }, 'websocket connection closed')
      })

      log.info('websocket connection opened')
      member.connection.send(encode({
        type: 'connection_status',
        status: 'connected',
        connection_id: id,
        user_id: userId,
        message: 'WebSocket connection established successfully',
        timestamp: now()
      }))
      const statistics = app.latestStatisticsFrame()
      if (statistics !== null) member.connection.send(statistics)
    }
  })

  function handle (member: Member, message: ClientMessage): void {
    switch (message.type) {
      case 'ping':
        member.connection.send(encode({ type: 'pong', timestamp: now(), echo: message.timestamp ?? null }))
        return
      case 'subscribe':
        member.subscription.subscribe(message.event_types, message.camera_ids)
        break
      case 'unsubscribe':
        member.subscription.unsubscribe(message.event_types, message.camera_ids)
        break
    }
    member.connection.send(encode({ type: 'subscribed', ...member.subscription.toJSON(), timestamp: now() }))
  }

  function sendError (member: Member, code: ErrorCode, message: string): void {
    member.connection.send(encode({ type: 'error', code, message, timestamp: now() }))
  }
}
