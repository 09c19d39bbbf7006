import cluster from 'node:cluster'
import type { AcceptGate } from './cluster/accept-gate.js'
import { startAcceptGate } from './cluster/worker-accept.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { listenFailure } from './net/listen-error.js'
import { startWorkers } from './workers.js'

function readConfig (): Config {
  try {
    return loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) console.error(`config error: ${problem}`)
      console.error('The service did not start. Fix the variables above and start it again.')
      process.exit(1)
    }
    throw err
  }
}

/**
 * The only file that listens: reads the configuration, starts the service,
 * and shuts it down gracefully on SIGTERM and SIGINT: /readyz turns 503, new
 * WebSockets are refused with 1012, every open one is told `server_restart`
 * and closed with 1012, then the server closes. The process exits within
 * SHUTDOWN_TIMEOUT_MS whatever the clients do.
 */
async function main (): Promise<void> {
  const config = readConfig()
  if (startWorkers(config)) return
  // Loaded here, not at the top: a WORKERS primary only supervises and never
  // needs fastify, ioredis and the rest (~40 MB of its memory when loaded).
  const { buildApp } = await import('./app.js')
  const app = await buildApp(config).catch((err: unknown) => {
    console.error(`start-up error: ${(err as Error).message}`)
    console.error('The service did not start.')
    process.exit(1)
  })
  // With WORKERS > 1 the primary has said these once for every worker.
  if (!cluster.isWorker) for (const warning of config.warnings) app.log.warn(warning)
  if (config.jwt.development) {
    app.log.warn(`!!! JWT_SECRET is not set: using the fixed DEVELOPMENT secret, with which anyone can sign tokens for this service, so it listens on ${config.HOST} (this machine) only${config.HOST_DEFAULTED_TO_LOOPBACK ? '' : ' as HOST says'}. To serve other machines set JWT_SECRET (\`openssl rand -hex 32\`) or JWT_PUBLIC_KEY, and HOST=0.0.0.0 if you set HOST. !!!`)
  }

  let closing = false
  let gate: AcceptGate | null = null
  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    // A worker that stopped accepting for balance stays so: the server closes anyway.
    gate?.stop()
    const timeoutMs = config.SHUTDOWN_TIMEOUT_MS
    app.log.info({ signal, timeoutMs }, 'shutting down: draining connections')
    const timer = setTimeout(() => {
      app.log.error({ timeoutMs }, 'shutdown timed out; exiting')
      process.exit(1)
    }, timeoutMs)
    timer.unref()
    // Most of the budget goes to the clients; the rest to closing the server.
    app.drain({ timeoutMs: Math.floor(timeoutMs * 0.8) }).then(async () => { await app.close() }).then(() => {
      app.log.info('shutdown complete')
      process.exit(0)
    }, (err: unknown) => {
      app.log.error({ err }, 'shutdown failed')
      process.exit(1)
    })
  }
  process.once('SIGTERM', () => { shutdown('SIGTERM') })
  process.once('SIGINT', () => { shutdown('SIGINT') })

  try {
    await app.listen({ port: config.PORT, host: config.HOST, backlog: config.LISTEN_BACKLOG })
    if (config.WORKERS > 1 && config.WORKER_ACCEPT === 'shared' && !closing) {
      gate = startAcceptGate({ server: app.server, addresses: app.addresses(), port: config.PORT, backlog: config.LISTEN_BACKLOG, held: () => app.socketsHeld, log: app.log })
    }
    // MAX_SOCKETS is what fits the open-file limit unless set: say which, so a refusal at capacity is no surprise.
    const limit = config.OPEN_FILE_LIMIT
    app.log[limit === null ? 'warn' : 'info']({ maxSockets: config.MAX_SOCKETS, maxConnections: app.server.maxConnections, openFileLimit: limit },
      limit === null
        ? `the open-file limit could not be read: accepting at most ${config.MAX_SOCKETS} WebSockets; set MAX_SOCKETS to what this host allows`
        : `accepting at most ${config.MAX_SOCKETS} WebSockets (MAX_SOCKETS) within the open-file limit of ${limit}`)
  } catch (err) {
    // One line for a person, not a JSON log line with a stack: the cause is
    // nearly always the environment (a port in use), and the fix is in it.
    console.error(`start-up error: ${listenFailure(err, config.HOST, config.PORT)}`)
    console.error('The service did not start.')
    process.exit(1)
  }
}

main().catch((err: unknown) => {
  console.error(`start-up error: ${err instanceof Error ? err.message : String(err)}`)
  console.error('The service did not start.')
  process.exit(1)
})
