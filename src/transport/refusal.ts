import type WebSocket from 'ws'
import { CloseCode } from '../protocol/close-codes.js'
import { flushHandshake } from './ws-connection.js'

/** A bug met while serving one connection closes that connection (1011), never the process. */
export const INTERNAL_REASON = 'internal error: the server could not handle this connection; reconnect'
export const SHUTDOWN_REASON = 'server shutting down'

/** Where refusals are counted, by close code (push_connections_refused_total). */
export interface RefusalCounter {
  inc (labels: { code: string }): void
}

/** Closes a just-upgraded socket with a code and reason, counted by code. */
export function refuse (refused: RefusalCounter, socket: WebSocket, code: number, reason: string): void {
  refused.inc({ code: String(code) })
  socket.close(code, reason)
  // The 101 and the close frame leave together (see holdHandshake).
  flushHandshake(socket)
}

/** Logs an unexpected failure on one connection and closes it with 1011. */
export function fail (refused: RefusalCounter, socket: WebSocket, err: unknown, log: { error (obj: object, msg: string): void }, what: string): void {
  log.error({ err }, `closing connection: ${what} failed`)
  try {
    refuse(refused, socket, CloseCode.INTERNAL_ERROR, INTERNAL_REASON)
  } catch {
    socket.terminate()
  }
}
