import { readFileSync } from 'node:fs'

/**
 * How many sockets this process can afford. Every socket is a file
 * descriptor, and so is everything else the process opens; when they run
 * out, accept() fails and even /healthz stops answering. The budget:
 *
 *   open-file limit
 *     − FD_RESERVE                 Redis connections, log files, static files, Node's own
 *     − HTTP headroom              plain HTTP: /healthz, publishers, metrics, handshakes
 *     = MAX_SOCKETS                WebSockets
 *
 * server.maxConnections is MAX_SOCKETS + the HTTP headroom, so a service full
 * of WebSockets still accepts health checks, and the headroom is larger than
 * what one address may hold unfinished (MAX_PENDING_PER_IP).
 */

/** Descriptors kept for everything that is not a client socket. */
export const FD_RESERVE = 64
/** Connections kept for HTTP on top of what one address may hold unfinished. */
export const HTTP_RESERVE = 64
/** Assumed when the limit cannot be read (not Linux): the common default, so the budget errs low. */
export const FALLBACK_OPEN_FILE_LIMIT = 1024

/**
 * The soft "Max open files" limit of this process (Node raises it to the
 * hard limit at start-up), or null when it cannot be read.
 */
export function readOpenFileLimit (path = '/proc/self/limits'): number | null {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return null
  }
  const match = /^Max open files\s+(\S+)/m.exec(text)
  if (match === null) return null
  if (match[1] === 'unlimited') return Number.MAX_SAFE_INTEGER
  const value = Number(match[1])
  return Number.isSafeInteger(value) && value > 0 ? value : null
}

/** Sockets kept for plain HTTP when the service holds MAX_SOCKETS WebSockets. */
export function httpHeadroom (maxPendingPerIp: number): number {
  return maxPendingPerIp + HTTP_RESERVE
}

/** The most WebSockets that fit the open-file limit. */
export function maxSocketsFor (openFileLimit: number, maxPendingPerIp: number): number {
  return openFileLimit - FD_RESERVE - httpHeadroom(maxPendingPerIp)
}

/** server.maxConnections: every WebSocket plus the HTTP headroom. */
export function maxConnections (maxSockets: number, maxPendingPerIp: number): number {
  return maxSockets + httpHeadroom(maxPendingPerIp)
}
