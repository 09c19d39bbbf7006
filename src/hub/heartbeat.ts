import { afterPendingIo } from '../net/after-pending-io.js'
import type { ConnectionHub } from './connection-hub.js'

/** The longest gap between two heartbeat ticks (ms): an interval is spread over ticks at most this far apart. */
export const HEARTBEAT_TICK_MS = 1000

/**
 * One timer for all connections, as ws recommends, instead of one per
 * connection. A connection that has not answered its previous ping by its
 * next turn is terminated, so a dead peer frees its slot within two
 * intervals.
 *
 * The pings are spread over the interval: it is cut into turns of at most
 * `tickMs`, and each tick pings only the members whose turn it is (by the
 * order they joined in), so each member is still pinged once per interval.
 * Pinging every member in one sweep meant, at 16,000 sockets per process, a
 * synchronous burst of 16,000 writes and then as many pongs to read, in
 * every worker at the same moment: on a busy 2-core machine with 100,000
 * sockets, every worker stalled for 1–2 s every 30 s, and handshakes
 * arriving then waited past the Redis acquire timeout.
 * @returns a function that stops the heartbeat.
 */
export function startHeartbeat (hub: ConnectionHub, intervalMs: number, onDead?: (id: string) => void, tickMs = HEARTBEAT_TICK_MS): () => void {
  const turns = Math.max(1, Math.round(intervalMs / tickMs))
  let turn = 0
  let stopped = false
  const sweep = (): void => {
    if (stopped) return
    const now = turn
    turn = (turn + 1) % turns
    for (const member of hub.members()) {
      if (turns > 1 && member.joinOrder % turns !== now) continue
      if (!member.alive) {
        onDead?.(member.connection.id)
        member.connection.terminate()
        continue
      }
      member.alive = false
      member.connection.ping()
    }
  }
  // After pongs already received are read: when this process was busy for a
  // whole turn, they are waiting in the sockets, and their peers would
  // otherwise be cut off for this process's own stall (see afterPendingIo).
  const timer = setInterval(() => { afterPendingIo(sweep) }, intervalMs / turns)
  timer.unref()
  return () => {
    stopped = true
    clearInterval(timer)
  }
}
