import type { FastifyBaseLogger } from 'fastify'
import type { VerifyResult } from '../auth/principal.js'
import type { TokenExpiry } from '../auth/token-expiry.js'
import type { ConnectionHub, Member } from '../hub/connection-hub.js'
import type { CameraScope } from '../protocol/camera-scope.js'
import type { SlotLimiter } from '../backplane/slot-limiter.js'
import type { ServiceMetrics } from '../metrics/service-metrics.js'
import { encode, now } from '../protocol/codec.js'
import type { ErrorCode, ServerMessage } from '../protocol/messages.js'
import type { PresenceFeed } from '../presence/presence-feed.js'
import type { Resumer } from '../resume/resumer.js'

/**
 * What a connection's session uses of the service. The route builds one for
 * all its connections; a session never sees the Fastify instance.
 */
export interface SessionContext {
  readonly hub: ConnectionHub
  /** The per-user limit: a session frees its slot when it closes. */
  readonly slots: Pick<SlotLimiter, 'release'>
  readonly resumer: Pick<Resumer, 'open' | 'offer' | 'forget'>
  /** The token-expiry wheel (see token-wheel.ts). */
  readonly tokens: Pick<TokenExpiry, 'track' | 'untrack'>
  readonly metrics: Pick<ServiceMetrics, 'sent' | 'refused'>
  /** Who is online, for connections that may see it (admin or presence role). */
  readonly presence: Pick<PresenceFeed, 'watch' | 'unwatch' | 'watching' | 'online' | 'forget'>
  readonly log: FastifyBaseLogger
  /** WS_MESSAGE_RATE_LIMIT: client messages per second per connection; 0 disables it. */
  readonly messageRateLimit: number
  /** MAX_CAMERA_IDS: camera ids one connection may subscribe to. */
  readonly maxCameraIds: number
  /** STATS_INTERVAL_MS, told to clients in `connected` so a dashboard can tell late statistics from quiet ones. */
  readonly statsIntervalMs: number
  /** Verifies a token; never throws. */
  verifyToken (token: string | undefined): VerifyResult
  /** The name of the sequence `seq` counts in, told to the client for resume. */
  stream (): string
  /** The newest statistics_update of a scope's view, encoded, or null before its first one. */
  latestStatisticsFrame (scope: CameraScope): Buffer | null
}

/** Sends one message to one connection, counted by type. */
export function send (ctx: Pick<SessionContext, 'metrics'>, member: Member, message: ServerMessage): void {
  member.connection.send(encode(message))
  ctx.metrics.sent.inc({ type: message.type })
}

export function sendError (ctx: Pick<SessionContext, 'metrics'>, member: Member, code: ErrorCode, message: string): void {
  send(ctx, member, { type: 'error', code, message, timestamp: now() })
}
