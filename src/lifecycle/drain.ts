import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'
import type { ConnectionHub, Member } from '../hub/connection-hub.js'
import { CloseCode } from '../protocol/close-codes.js'
import { encode, now } from '../protocol/codec.js'

export interface DrainOptions {
  /** Each client waits a random delay below this before reconnecting. */
  spreadMs: number
  /** After this long, connections that have not finished closing are dropped. */
  timeoutMs: number
  /** Connections told per turn of the event loop. */
  sliceSize?: number
  /** Counts each connection told to reconnect. */
  onTold?: (member: Member) => void
}

export interface DrainResult {
  /** Connections told to reconnect. */
  told: number
  /** Connections that had not closed by the deadline and were dropped. */
  terminated: number
}

export const RESTART_REASON = 'server restart: reconnect after reconnect_in_ms'

/**
 * A graceful drain before shutdown. Every connection is told
 * `server_restart` with its own random `reconnect_in_ms` (so a deploy does
 * not bring every dashboard back in the same second) and closed with 1012.
 * This happens a slice at a time, so the process keeps serving health checks
 * and in-flight requests while tens of thousands of sockets are told; those
 * that have not completed the close by the deadline are dropped.
 */
export async function drainConnections (hub: ConnectionHub, options: DrainOptions): Promise<DrainResult> {
  const deadline = Date.now() + options.timeoutMs
  const sliceSize = options.sliceSize ?? 500
  // Messages already being fanned out reach everyone before the restart notice.
  await hub.fanoutIdle()
  const members = [...hub.members()]
  let told = 0
  for (let i = 0; i < members.length; i += sliceSize) {
    if (i > 0) await nextTurn()
    for (const member of members.slice(i, i + sliceSize)) {
      if (hub.get(member.connection.id) !== member) continue
      // Whatever the member was waiting for (a replay), the restart comes now.
      member.gate = null
      member.connection.send(encode({
        type: 'connection_status',
        status: 'server_restart',
        reconnect_in_ms: Math.floor(Math.random() * options.spreadMs),
        message: 'the server is restarting; reconnect after reconnect_in_ms with ?last_seq to resume',
        timestamp: now()
      }))
      member.connection.close(CloseCode.SERVICE_RESTART, RESTART_REASON)
      options.onTold?.(member)
      told++
    }
  }
  // The peers answer the close frames; wait for them, not longer than the deadline.
  while (hub.size > 0 && Date.now() < deadline) await sleep(Math.min(20, Math.max(1, deadline - Date.now())))
  let terminated = 0
  for (const member of [...hub.members()]) {
    member.connection.terminate()
    hub.remove(member.connection.id)
    terminated++
  }
  return { told, terminated }
}
