import { afterPendingIo } from '../net/after-pending-io.js'
import type { ConnectionHub } from './connection-hub.js'

/**
 * One sweep over all connections per interval, as ws recommends, instead of
 * a timer per connection. A connection that has not answered the previous
 * sweep's ping is terminated, so a dead peer frees its slot within two
 * intervals.
 * @returns a function that stops the heartbeat.
 */
export function startHeartbeat (hub: ConnectionHub, intervalMs: number, onDead?: (id: string) => void): () => void {
  let stopped = false
  const sweep = (): void => {
    if (stopped) return
    for (const member of hub.members()) {
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
  // whole interval, they are waiting in the sockets, and their peers would
  // otherwise be cut off for this process's own stall (see afterPendingIo).
  const timer = setInterval(() => { afterPendingIo(sweep) }, intervalMs)
  timer.unref()
  return () => {
    stopped = true
    clearInterval(timer)
  }
}
