import { readFileSync } from 'node:fs'

/**
 * Helpers for tests of what the service does after its own event loop was
 * busy (a long fan-out, a GC pause): the loop is held by a synchronous
 * loop, so no timer and no socket callback runs, while peers in Redis or in
 * other processes go on answering into the kernel's buffers.
 */

/** `127.0.0.1:port` as /proc/net/tcp writes it. */
function procAddress (port: number): string {
  return `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`
}

/**
 * Bytes received and not yet read by this machine's TCP socket
 * 127.0.0.1:`localPort` ↔ 127.0.0.1:`remotePort` (the kernel's receive
 * queue, from /proc/net/tcp); null when there is no such socket.
 */
export function unreadBytes (localPort: number, remotePort: number): number | null {
  const local = procAddress(localPort)
  const remote = procAddress(remotePort)
  for (const line of readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    if (fields[1] === local && fields[2] === remote) return parseInt(fields[4].split(':')[1], 16)
  }
  return null
}

/**
 * Holds this process's event loop until `done()` is true, as a busy process
 * would: nothing else runs meanwhile. Throws after `limitMs`, naming `what`.
 */
export function stallUntil (done: () => boolean, what: string, limitMs = 10_000): void {
  const start = Date.now()
  while (!done()) {
    if (Date.now() - start > limitMs) throw new Error(`stalled ${limitMs} ms without ${what}`)
  }
}
