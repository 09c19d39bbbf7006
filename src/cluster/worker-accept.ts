import cluster from 'node:cluster'
import type { Server } from 'node:net'
import type { FastifyBaseLogger } from 'fastify'
import { AcceptGate } from './accept-gate.js'
import { isAcceptCommand } from './messages.js'

/** How often a worker looks at its load; at 1,000 handshakes/s per worker a report carries ~50 of them. */
const REPORT_EVERY_MS = 50

/**
 * In a worker with WORKER_ACCEPT=shared: reports the load to the primary
 * and follows its commands (see accept-plan.ts). Null elsewhere, and when
 * the service listens on more than one address (HOST=localhost: fastify then
 * runs a second server, which the gate could not stop).
 */
export function startAcceptGate (options: {
  server: Server
  /** fastify's addresses(): a string for a Unix socket. */
  addresses: Array<string | { address: string }>
  port: number
  backlog: number
  held: () => number
  log: FastifyBaseLogger
}): AcceptGate | null {
  if (!cluster.isWorker || process.send === undefined) return null
  const { server, addresses, port, backlog, held, log } = options
  const first = addresses[0]
  if (addresses.length !== 1 || typeof first === 'string') {
    log.warn({ addresses: addresses.map(a => typeof a === 'string' ? a : a.address) }, 'WORKER_ACCEPT=shared: listening on more than one address, so this worker never stops accepting; set HOST to one address to keep the workers even')
    return null
  }
  let lastFailureLogged = -Infinity
  const gate = new AcceptGate({
    server,
    // The port as asked (0 included): node:cluster shares one socket per address and asked port.
    listenOn: { host: first.address, port, backlog },
    held,
    // With a callback a closed channel (the primary is gone) is an error passed here, not an 'error' event that would end the process.
    send: report => { process.send?.(report, undefined, undefined, () => {}) },
    reportEveryMs: REPORT_EVERY_MS,
    failed: err => {
      // The primary asks again at the next report: one line per 10 s is enough to see it.
      if (Date.now() - lastFailureLogged < 10_000) return
      lastFailureLogged = Date.now()
      log.error({ err }, 'could not listen again after a pause; the other workers take the connections meanwhile, and the primary asks again')
    }
  })
  process.on('message', (message: unknown) => {
    if (isAcceptCommand(message)) {
      log.debug({ accept: message.accept, held: held() }, message.accept ? 'accepting connections again' : 'stopped accepting connections: the other workers take them')
      gate.command(message.accept, message.seq)
    }
  })
  gate.start()
  return gate
}
