import { TokenExpiry } from '../auth/token-expiry.js'
import type { ConnectionHub } from '../hub/connection-hub.js'
import { CloseCode } from '../protocol/close-codes.js'
import { now } from '../protocol/codec.js'
import { INTERNAL_REASON } from '../transport/refusal.js'
import { send, type SessionContext } from './context.js'

export const EXPIRED_REASON = 'token expired: reconnect with a new token, or refresh it with an auth message before it expires'

export interface TokenWheelOptions {
  /** TOKEN_REFRESH_WARNING_MS: warn this long before expiry; 0 never warns. */
  warningMs: number
  /** JWT_CLOCK_SKEW_MS: close this long after expiry. */
  skewMs: number
  hub: Pick<ConnectionHub, 'get'>
  metrics: SessionContext['metrics']
  log: { info (obj: object, msg: string): void, error (obj: object, msg: string): void }
}

/**
 * The token lifetimes of open connections on one timer wheel: a warning
 * before expiry (so the client can send a fresh token), then a close with
 * 4401. Returned stopped: the owner starts it and stops it at shutdown.
 */
export function createTokenWheel ({ warningMs, skewMs, hub, metrics, log }: TokenWheelOptions): TokenExpiry {
  return new TokenExpiry({
    warningMs,
    skewMs,
    onWarn (id, expiresAt) {
      const member = hub.get(id)
      if (member !== undefined) send({ metrics }, member, { type: 'connection_status', status: 'token_expiring', expires_at: new Date(expiresAt).toISOString(), message: 'send {"type":"auth","token":"<new token>"} before expires_at to stay connected', timestamp: now() })
    },
    onExpire (id) {
      const member = hub.get(id)
      if (member === undefined) return
      log.info({ connectionId: id, userId: member.connection.userId, closeCode: CloseCode.UNAUTHORIZED }, 'closing connection: token expired')
      member.connection.close(CloseCode.UNAUTHORIZED, EXPIRED_REASON)
    },
    onError (id, err) {
      const member = hub.get(id)
      if (member !== undefined) member.connection.close(CloseCode.INTERNAL_ERROR, INTERNAL_REASON)
      log.error({ err, connectionId: id }, 'closing connection: its token expiry could not be handled')
    }
  })
}
