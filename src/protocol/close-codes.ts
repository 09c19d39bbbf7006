/**
 * WebSocket close codes the service uses. The 4xxx codes mirror HTTP statuses
 * so that a browser, which cannot read an HTTP refusal of an upgrade, can still
 * tell why it was turned away.
 */
export const CloseCode = {
  /** The client asked to close, or the server closed without an error. */
  NORMAL: 1000,
  /** The server is shutting down. */
  GOING_AWAY: 1001,
  /** Policy violation: the per-user connection limit. */
  POLICY_VIOLATION: 1008,
  /** A client frame was larger than MAX_INBOUND_MESSAGE_BYTES. */
  MESSAGE_TOO_BIG: 1009,
  /** The server failed while serving this connection (a message, the handshake, a resume); reconnect. */
  INTERNAL_ERROR: 1011,
  /** The server restarts; reconnect after a short random delay. */
  SERVICE_RESTART: 1012,
  /** Try again later: the connection could not keep up. */
  TRY_AGAIN_LATER: 1013,
  /** The token is missing, malformed, badly signed or expired. */
  UNAUTHORIZED: 4401,
  /** The page's origin is not allowed. */
  FORBIDDEN: 4403,
  /** The client sent more messages per second than allowed. */
  RATE_LIMITED: 4429
} as const

export type CloseCodeValue = typeof CloseCode[keyof typeof CloseCode]
