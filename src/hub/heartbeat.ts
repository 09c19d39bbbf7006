import type { ConnectionHub } from './connection-hub.js'

/**
 * One sweep over all connections per interval, as ws recommends, instead of
 * a timer per connection. A connection that has not answered the previous
 * sweep's ping is terminated, so a dead peer frees its slot within two
 * intervals.
 * @returns a function that stops the heartbeat.
 */
export function startHeartbeat (hub: ConnectionHub, intervalMs: number, onDead?: (id: string) => void): () => void {
  const timer = setInterval(() => {
    for (const member of hub.members()) {
      if (!member.alive) {
        onDead?.(member.connection.id)
        member.connection.terminate()
        continue
      }
      member.alive = false
      member.connection.ping()
    }
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
